#include "test_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

#include "codecs/g711.hpp"
#include "codecs/pcm.hpp"
#include "codecs/tone.hpp"
#include "protocol/elevenlabs_client_messages.hpp"

namespace cb::fake_elevenlabs::test {
namespace {

int connect_socket(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval timeout{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string request(std::uint16_t port, std::string_view target, const header_list& headers,
                    std::string_view extra) {
  std::string text = "GET " + std::string(target) +
                     " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n";
  for (const auto& [name, value] : headers) {
    text += name;
    text += ": ";
    text += value;
    text += "\r\n";
  }
  text += extra;
  text += "\r\n";
  return text;
}

bool send_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const auto n = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Reads until the headers are complete (and, with want_body, the Content-Length body).
std::string read_response(int fd, bool want_body) {
  std::string data;
  std::array<char, 4096> buffer{};
  for (;;) {
    const auto head_end = data.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      if (!want_body) return data;
      const auto at = data.find("content-length:");
      std::size_t length = 0;
      if (at != std::string::npos && at < head_end) {
        const char* first = data.data() + at + 15;
        while (*first == ' ')
          ++first;
        std::from_chars(first, data.data() + head_end, length);
      }
      if (data.size() >= head_end + 4 + length) return data;
    }
    const auto n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n <= 0) return data;
    data.append(buffer.data(), static_cast<std::size_t>(n));
  }
}

int status_of(const std::string& response) {
  int status = 0;
  const auto space = response.find(' ');
  if (space == std::string::npos) return 0;
  std::from_chars(response.data() + space + 1, response.data() + response.size(), status);
  return status;
}

constexpr std::string_view upgrade_headers =
    "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

}  // namespace

running_server::running_server(server_options options) {
  lws_set_log_level(LLL_ERR | LLL_WARN, nullptr);
  const auto started = agent.start(std::move(options));
  REQUIRE(started);
  port = *started;
}

std::unique_ptr<ws_test_client> connect(std::uint16_t port, std::string path, header_list headers,
                                        std::string subprotocol) {
  client_options options;
  options.port = port;
  options.path = std::move(path);
  options.headers = std::move(headers);
  options.subprotocol = std::move(subprotocol);
  auto client = std::make_unique<ws_test_client>(std::move(options));
  REQUIRE(client->wait_connected(2s));
  return client;
}

std::string agent_path(std::string_view agent_id) {
  return "/v1/convai/conversation?agent_id=" + std::string(agent_id);
}

http_response http_get(std::uint16_t port, std::string_view target, const header_list& headers) {
  http_response response;
  const int fd = connect_socket(port);
  if (fd < 0) return response;
  if (send_all(fd, request(port, target, headers, ""))) {
    const std::string data = read_response(fd, true);
    response.status = status_of(data);
    const auto body = data.find("\r\n\r\n");
    if (body != std::string::npos) response.body = data.substr(body + 4);
  }
  ::close(fd);
  return response;
}

int upgrade_status(std::uint16_t port, std::string_view target, const header_list& headers) {
  const int fd = connect_socket(port);
  if (fd < 0) return 0;
  int status = 0;
  if (send_all(fd, request(port, target, headers, upgrade_headers))) {
    status = status_of(read_response(fd, false));
  }
  ::close(fd);
  return status;
}

int raw_websocket(std::uint16_t port, std::string_view target) {
  const int fd = connect_socket(port);
  if (fd < 0) return -1;
  if (!send_all(fd, request(port, target, {}, upgrade_headers)) ||
      status_of(read_response(fd, false)) != 101) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::vector<std::int16_t> tone(double frequency_hz, int duration_ms, int rate_hz) {
  std::vector<std::int16_t> samples(static_cast<std::size_t>(rate_hz) *
                                    static_cast<std::size_t>(duration_ms) / 1000);
  codecs::tone_generator generator(frequency_hz, rate_hz);
  generator.generate(samples.data(), samples.size());
  return samples;
}

std::vector<std::int16_t> silence(int duration_ms, int rate_hz) {
  return std::vector<std::int16_t>(static_cast<std::size_t>(rate_hz) *
                                   static_cast<std::size_t>(duration_ms) / 1000);
}

std::vector<std::int16_t> concat(std::vector<std::int16_t> a, const std::vector<std::int16_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<std::string> audio_chunks(const std::vector<std::int16_t>& samples,
                                      codecs::audio_format format, int chunk_ms) {
  const std::size_t per_chunk =
      static_cast<std::size_t>(format.rate_hz) * static_cast<std::size_t>(chunk_ms) / 1000;
  std::vector<std::string> chunks;
  std::vector<std::uint8_t> bytes;
  for (std::size_t at = 0; at < samples.size(); at += per_chunk) {
    const std::size_t n = std::min(per_chunk, samples.size() - at);
    bytes.resize(n * format.bytes_per_sample());
    if (format.enc == codecs::encoding::ulaw) {
      codecs::encode_ulaw(samples.data() + at, n, bytes.data());
    } else {
      codecs::store_s16le(samples.data() + at, n, bytes.data());
    }
    std::string json;
    elevenlabs::append_user_audio_chunk(json, bytes.data(), bytes.size());
    chunks.push_back(std::move(json));
  }
  return chunks;
}

void send_audio(ws_test_client& client, const std::vector<std::int16_t>& samples,
                codecs::audio_format format, int chunk_ms) {
  for (auto& chunk : audio_chunks(samples, format, chunk_ms))
    client.send(std::move(chunk));
}

std::vector<std::int16_t> agent_audio(const std::vector<received_event>& events,
                                      std::int64_t event_id, codecs::audio_format format) {
  std::vector<std::int16_t> samples;
  for (const auto& audio : events_of<elevenlabs::audio_event>(events)) {
    if (audio.event_id != event_id) continue;
    const std::size_t n = audio.audio.size() / format.bytes_per_sample();
    const std::size_t at = samples.size();
    samples.resize(at + n);
    if (format.enc == codecs::encoding::ulaw) {
      codecs::decode_ulaw(audio.audio.data(), n, samples.data() + at);
    } else {
      codecs::load_s16le(audio.audio.data(), n, samples.data() + at);
    }
  }
  return samples;
}

double duration_ms(const std::vector<std::int16_t>& samples, int rate_hz) {
  return 1000.0 * static_cast<double>(samples.size()) / rate_hz;
}

double frequency_hz(const std::vector<std::int16_t>& samples, int rate_hz) {
  const std::size_t edge = static_cast<std::size_t>(rate_hz) / 50;
  if (samples.size() <= 4 * edge) return 0.0;
  return codecs::estimate_frequency_hz(samples.data() + edge, samples.size() - 2 * edge, rate_hz);
}

}  // namespace cb::fake_elevenlabs::test
