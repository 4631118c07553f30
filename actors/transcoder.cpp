#include "actors/transcoder.hpp"

#include <chrono>
#include <utility>

#include "actors/log.hpp"
#include "codecs/g711.hpp"
#include "codecs/pcm.hpp"
#include "protocol/elevenlabs_audio_format.hpp"

namespace cb {

namespace {

using transcoder_ptr = metrics::instrumented_pointer<transcoder_actor, transcoder_state>;
constexpr std::uint64_t frames_per_report = 50;  // one second of 20 ms frames
// Live caller audio older than this when the transcoder gets to it is of no use to the agent's
// turn-taking: the caller has moved on.
constexpr auto max_uplink_age = std::chrono::milliseconds(1000);

bool stale(const caller_audio& in) {
  return std::chrono::steady_clock::now().time_since_epoch() -
             std::chrono::nanoseconds(in.received_ns) >
         max_uplink_age;
}

// Resampler for from -> to, or nothing when the rates match (the copy is cheaper).
std::optional<codecs::resampler> make_resampler(int from, int to) {
  if (from == to) return std::nullopt;
  return codecs::resampler(from, to);
}

void rebuild_resamplers(transcoder_state& st) {
  if (st.agent_input) st.uplink = make_resampler(st.caller_rate, st.agent_input->rate_hz);
  if (st.agent_output) st.downlink = make_resampler(st.agent_output->rate_hz, st.caller_rate);
}

// samples at `from_rate` -> st.resampled at `to` rate via r (or a copy); returns the output span.
const std::vector<std::int16_t>& resample(transcoder_state& st, std::optional<codecs::resampler>& r,
                                          const std::vector<std::int16_t>& in) {
  if (!r) {
    st.resampled.assign(in.begin(), in.end());
    return st.resampled;
  }
  st.resampled.resize(r->max_output(in.size()));
  const auto n = r->process(in.data(), in.size(), st.resampled.data(), st.resampled.size());
  st.resampled.resize(n);
  return st.resampled;
}

void send_uplink(transcoder_ptr self, const caller_audio& in) {
  auto& st = self->state;
  const auto n = in.pcm_le.size() / 2;
  st.pcm.resize(n);
  codecs::load_s16le(in.pcm_le.data(), n, st.pcm.data());
  if (in.rate_hz != st.caller_rate) {
    st.caller_rate = in.rate_hz;
    rebuild_resamplers(st);
  }
  st.report.caller_level_dbfs = codecs::level_dbfs(st.pcm.data(), n);
  const auto& out = resample(st, st.uplink, st.pcm);
  agent_uplink up;
  up.received_ns = in.received_ns;
  if (st.agent_input->enc == codecs::encoding::ulaw) {
    up.bytes.resize(out.size());
    codecs::encode_ulaw(out.data(), out.size(), up.bytes.data());
  } else {
    up.bytes.resize(out.size() * 2);
    codecs::store_s16le(out.data(), out.size(), up.bytes.data());
  }
  if (!up.bytes.empty()) self->send(st.session, std::move(up));
}

}  // namespace

transcoder_actor::behavior_type transcoder(transcoder_ptr self, call_actor call,
                                           std::shared_ptr<metrics::call_metrics> metrics,
                                           playout_actor playout,
                                           std::chrono::milliseconds uplink_buffer) {
  auto& st = self->state;
  st.call = std::move(call);
  st.metrics = std::move(metrics);
  st.playout = std::move(playout);
  st.max_before_ready =
      static_cast<std::size_t>(std::max<std::int64_t>(1, uplink_buffer.count() / 20));
  return {
      [self](caller_audio& in) {
        auto& s = self->state;
        s.metrics->frame_in();
        if (!s.agent_input || !s.session) {
          // The agent has not named its input format yet: keep the newest audio, bounded.
          if (s.before_ready.size() >= s.max_before_ready) {
            s.before_ready.pop_front();
            s.metrics->frame_dropped();
          }
          s.before_ready.push_back(std::move(in));
        } else if (stale(in)) {
          // An overloaded bridge sheds live audio the agent can no longer use instead of queueing
          // it behind the backlog. (Audio held before the agent was ready is sent whatever its
          // age.)
          s.metrics->frame_dropped();
          if (!std::exchange(s.warned_overload, true)) {
            log::warn("transcoder", s.metrics->uuid(),
                      "caller audio waited over {} ms for the transcoder; dropping late audio (the "
                      "bridge is overloaded)",
                      max_uplink_age.count());
          }
        } else {
          send_uplink(self, in);
        }
        if (++s.frames_since_report >= frames_per_report) {
          s.frames_since_report = 0;
          self->send(s.call, s.report);
        }
      },
      [self](agent_audio& in) {
        auto& s = self->state;
        if (!s.agent_output || in.event_id < s.gate_event_id || in.bytes.empty()) return;
        if (s.agent_output->enc == codecs::encoding::ulaw) {
          s.pcm.resize(in.bytes.size());
          codecs::decode_ulaw(in.bytes.data(), in.bytes.size(), s.pcm.data());
        } else {
          // PCM chunks should hold whole samples; carry a stray byte rather than shift the stream.
          const std::uint8_t* bytes = in.bytes.data();
          std::size_t len = in.bytes.size();
          std::uint8_t joined[2];
          s.pcm.clear();
          if (s.has_odd_byte) {
            joined[0] = s.odd_byte;
            joined[1] = bytes[0];
            std::int16_t first = 0;
            codecs::load_s16le(joined, 1, &first);
            s.pcm.push_back(first);
            ++bytes;
            --len;
            s.has_odd_byte = false;
          }
          const auto n = len / 2;
          const auto base = s.pcm.size();
          s.pcm.resize(base + n);
          codecs::load_s16le(bytes, n, s.pcm.data() + base);
          if (len % 2 != 0) {
            s.odd_byte = bytes[len - 1];
            s.has_odd_byte = true;
          }
        }
        const auto& out = resample(s, s.downlink, s.pcm);
        if (out.empty()) return;
        self->send(s.playout, playout_chunk{out, in.event_id, in.received_ns, s.caller_rate});
      },
      [self](atom::configure, const std::string& input, const std::string& output) {
        auto& s = self->state;
        s.agent_input = elevenlabs::parse_audio_format(input);
        s.agent_output = elevenlabs::parse_audio_format(output);
        if (!s.agent_input || !s.agent_output) {
          self->send(s.call, call_end{end_reason::agent_failed,
                                      "agent announced an unsupported audio format (input '" +
                                          input + "', output '" + output + "')"});
          s.agent_input.reset();
          s.agent_output.reset();
          return;
        }
        rebuild_resamplers(s);
        if (!s.session) return;
        for (const auto& audio : s.before_ready)
          send_uplink(self, audio);
        s.before_ready.clear();
      },
      [self](atom::caller_rate, std::int32_t rate) {
        auto& s = self->state;
        if (rate == s.caller_rate) return;
        s.caller_rate = rate;
        rebuild_resamplers(s);
      },
      [self](atom::flush, std::int64_t event_id) {
        auto& s = self->state;
        s.gate_event_id = std::max(s.gate_event_id, event_id);
        s.has_odd_byte = false;
        if (s.downlink) s.downlink->reset();
      },
      [self](atom::attach, const caf::actor& session) {
        auto& s = self->state;
        s.session = caf::actor_cast<elevenlabs_session_actor>(session);
        if (!s.agent_input) return;
        for (const auto& audio : s.before_ready)
          send_uplink(self, audio);
        s.before_ready.clear();
      },
  };
}

}  // namespace cb
