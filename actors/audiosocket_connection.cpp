#include "actors/audiosocket_connection.hpp"

#include <caf/io/system_messages.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "actors/log.hpp"

namespace cb {

namespace {

constexpr std::size_t read_chunk = 4096;
// Caller audio that may arrive between the UUID and the call's attach (a few ms in practice).
constexpr std::size_t max_before_attach = 50;

std::int64_t monotonic_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Ends this connection: the socket closes with the broker. A reason other than normal tells the
// call (linked) why.
void finish(audiosocket_connection_broker* self, caf::error reason) {
  auto& st = self->state;
  if (st.closing) return;
  st.closing = true;
  if (st.writer) st.writer->close();
  self->close(st.hdl);
  self->quit(std::move(reason));
}

void forward_audio(audiosocket_connection_broker* self, caller_audio&& audio) {
  auto& st = self->state;
  if (st.transcoder) {
    self->send(st.transcoder, std::move(audio));
  } else if (st.before_attach.size() < max_before_attach) {
    st.before_attach.push_back(std::move(audio));
  }
}

void on_first_frame(audiosocket_connection_broker* self, const audiosocket::frame_view& frame,
                    const call_registry_actor& registry) {
  auto& st = self->state;
  const auto id = frame.k == audiosocket::kind::uuid
                      ? audiosocket::parse_call_id(frame.payload, frame.length)
                      : std::nullopt;
  if (!id) {
    log::warn("audiosocket", "", "port {}: first frame is kind 0x{:02x}, not the call id; closing",
              st.listen_port, static_cast<unsigned>(frame.k));
    finish(self, make_error(bridge_errc::no_call_id));
    return;
  }
  st.call_id = id->text();
  log::info("audiosocket", st.call_id, "connected on port {}{}", st.listen_port,
            id->ascii ? " (OSdial ASCII id)" : "");
  self->request(registry, caf::infinite, atom::connected_v, st.call_id, st.listen_port,
                caf::actor{self}, st.writer)
      .then(
          [self](const call_actor& call) { self->state.call = caf::actor_cast<caf::actor>(call); },
          [self](const caf::error& err) {
            log::warn("audiosocket", self->state.call_id, "call refused: {}", describe(err));
            finish(self, caf::exit_reason::normal);
          });
}

void on_frame(audiosocket_connection_broker* self, const audiosocket::frame_view& frame,
              const call_registry_actor& registry) {
  auto& st = self->state;
  if (st.call_id.empty()) {
    on_first_frame(self, frame, registry);
    return;
  }
  if (frame.heartbeat) return;
  if (audiosocket::is_audio(frame.k)) {
    const auto rate = audiosocket::sample_rate(frame.k);
    if (rate != st.rate_hz) {
      st.rate_hz = rate;
      if (st.call) self->send(caf::actor_cast<call_actor>(st.call), atom::caller_rate_v, rate);
    }
    caller_audio audio;
    audio.pcm_le.assign(frame.payload, frame.payload + frame.length);
    audio.rate_hz = rate;
    audio.received_ns = monotonic_ns();
    forward_audio(self, std::move(audio));
    return;
  }
  switch (frame.k) {
    case audiosocket::kind::dtmf:
      if (st.call) {
        self->send(caf::actor_cast<call_actor>(st.call), atom::dtmf_v,
                   std::string(1, static_cast<char>(frame.payload[0])));
      }
      break;
    case audiosocket::kind::hangup:
      log::info("audiosocket", st.call_id, "peer sent hangup");
      finish(self, caf::exit_reason::normal);
      break;
    case audiosocket::kind::error:
      log::warn("audiosocket", st.call_id, "peer sent error frame{}",
                frame.length > 0 ? fmt::format(" (code {})", frame.payload[0]) : "");
      finish(self, caf::exit_reason::normal);
      break;
    default:  // a second call id: harmless, the first one stands
      break;
  }
}

}  // namespace

caf::behavior audiosocket_connection(audiosocket_connection_broker* self,
                                     caf::io::connection_handle hdl, call_registry_actor registry,
                                     std::uint16_t listen_port,
                                     audiosocket::parser_options options) {
  auto& st = self->state;
  st.hdl = hdl;
  st.listen_port = listen_port;
  st.parser = audiosocket::parser(options);
  // CAF's default multiplexer names a connection by its descriptor.
  st.writer = audiosocket_writer::open(static_cast<int>(hdl.id()));
  if (!st.writer) {
    log::error("audiosocket", "", "port {}: cannot take the connection: {}", listen_port,
               std::strerror(errno));
    finish(self, make_error(bridge_errc::out_of_descriptors, std::strerror(errno)));
    return {};
  }
  self->configure_read(hdl, caf::io::receive_policy::at_most(read_chunk));
  return {
      [self, registry](const caf::io::new_data_msg& msg) {
        auto& s = self->state;
        if (s.closing) return;
        auto result = s.parser.feed(reinterpret_cast<const std::uint8_t*>(msg.buf.data()),
                                    msg.buf.size(), [&](const audiosocket::frame_view& frame) {
                                      if (!s.closing) on_frame(self, frame, registry);
                                    });
        if (!result && !s.closing) {
          log::warn("audiosocket", s.call_id, "malformed frame: {}; ending this call",
                    audiosocket::to_string(result.error()));
          finish(self,
                 make_error(bridge_errc::malformed_frame, audiosocket::to_string(result.error())));
        }
      },
      [self](const caf::io::connection_closed_msg&) {
        auto& s = self->state;
        if (s.closing) return;
        log::info("audiosocket", s.call_id, "Asterisk closed the connection{}",
                  s.parser.mid_frame() ? " mid-frame" : "");
        finish(self, caf::exit_reason::normal);
      },
      [self](atom::attach, const caf::actor& call, const caf::actor& transcoder) {
        auto& s = self->state;
        s.call = call;
        s.transcoder = transcoder;
        if (s.rate_hz != 0)
          self->send(caf::actor_cast<call_actor>(call), atom::caller_rate_v, s.rate_hz);
        for (auto& audio : s.before_attach)
          self->send(transcoder, std::move(audio));
        s.before_attach.clear();
      },
      [self](atom::hangup) {
        auto& s = self->state;
        if (s.closing) return;
        const auto bytes = audiosocket::hangup_frame();
        s.writer->write(bytes.data(), bytes.size());
        finish(self, caf::exit_reason::normal);
      },
  };
}

caf::behavior audiosocket_listener(audiosocket_listener_broker* self, std::string host,
                                   std::uint16_t port, call_registry_actor registry,
                                   audiosocket::parser_options options, caf::actor ready_to) {
  auto bound = self->add_tcp_doorman(port, host.empty() ? nullptr : host.c_str(), true);
  if (!bound) {
    log::error("audiosocket", "", "cannot listen on {}:{}: {}", host, port,
               describe(bound.error()));
    self->send(ready_to, atom::connected_v, port, std::uint16_t{0});
    self->quit(bound.error());
    return {};
  }
  const auto actual = bound->second;
  self->send(ready_to, atom::connected_v, port, actual);
  return {
      [self, registry, options, actual](const caf::io::new_connection_msg& msg) {
        self->fork(audiosocket_connection, msg.handle, registry, actual, options);
      },
      [](const caf::io::acceptor_closed_msg&) {},
  };
}

}  // namespace cb
