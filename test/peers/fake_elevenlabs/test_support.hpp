// Helpers for the fake agent's loopback tests: a running server, raw HTTP requests, caller audio
// as user_audio_chunk frames, and decoding of the agent's audio events.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "apps/fake_elevenlabs/fake_elevenlabs.hpp"
#include "codecs/audio_format.hpp"
#include "protocol/elevenlabs_server_events.hpp"
#include "ws_test_client.hpp"

namespace cb::fake_elevenlabs::test {

using namespace std::chrono_literals;
using header_list = std::vector<std::pair<std::string, std::string>>;

inline constexpr codecs::audio_format pcm_16000{codecs::encoding::pcm_s16le, 16000};
inline constexpr codecs::audio_format ulaw_8000{codecs::encoding::ulaw, 8000};
inline constexpr std::string_view init_message =
    R"({"type":"conversation_initiation_client_data"})";

// A server on an ephemeral loopback port, stopped at scope exit.
struct running_server {
  explicit running_server(server_options options = {});
  server agent;
  std::uint16_t port = 0;
};

// Connects to path (upgrade must succeed within 2 s).
std::unique_ptr<ws_test_client> connect(std::uint16_t port, std::string path,
                                        header_list headers = {}, std::string subprotocol = {});
std::string agent_path(std::string_view agent_id);

struct http_response {
  int status = 0;
  std::string body;
};
// One request over a fresh connection; status 0 when the exchange failed.
http_response http_get(std::uint16_t port, std::string_view target, const header_list& headers);
// Sends a WebSocket upgrade request and returns the response's status code.
int upgrade_status(std::uint16_t port, std::string_view target, const header_list& headers = {});
// Completes an upgrade by hand and returns the socket (-1 on failure), to drop it without a close.
int raw_websocket(std::uint16_t port, std::string_view target);

std::vector<std::int16_t> tone(double frequency_hz, int duration_ms, int rate_hz);
std::vector<std::int16_t> silence(int duration_ms, int rate_hz);
std::vector<std::int16_t> concat(std::vector<std::int16_t> a, const std::vector<std::int16_t>& b);
// The samples as user_audio_chunk frames of chunk_ms each, in `format`.
std::vector<std::string> audio_chunks(const std::vector<std::int16_t>& samples,
                                      codecs::audio_format format, int chunk_ms = 20);
void send_audio(ws_test_client& client, const std::vector<std::int16_t>& samples,
                codecs::audio_format format, int chunk_ms = 20);

template <class Event>
std::vector<Event> events_of(const std::vector<received_event>& events) {
  std::vector<Event> out;
  for (const auto& e : events) {
    if (e.event && std::holds_alternative<Event>(*e.event))
      out.push_back(std::get<Event>(*e.event));
  }
  return out;
}

template <class Event>
bool has_event(const std::vector<received_event>& events) {
  return !events_of<Event>(events).empty();
}

// Decoded samples of the audio events with event_id, in arrival order.
std::vector<std::int16_t> agent_audio(const std::vector<received_event>& events,
                                      std::int64_t event_id, codecs::audio_format format);
double duration_ms(const std::vector<std::int16_t>& samples, int rate_hz);
// Frequency of a tone, leaving out 20 ms at each end (a resampler rings at a tone's edges).
double frequency_hz(const std::vector<std::int16_t>& samples, int rate_hz);

}  // namespace cb::fake_elevenlabs::test
