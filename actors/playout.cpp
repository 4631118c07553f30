#include "actors/playout.hpp"

#include <algorithm>
#include <utility>

#include "actors/log.hpp"
#include "codecs/pcm.hpp"
#include "codecs/resampler.hpp"
#include "protocol/audiosocket.hpp"

namespace cb {

namespace {

using playout_ptr = metrics::instrumented_pointer<playout_actor, playout_state>;
using std::chrono::steady_clock;
constexpr auto late_threshold = std::chrono::milliseconds(5);
constexpr std::uint64_t ticks_per_report = 50;

// Whether a new turn may start: enough audio queued, or its audio waited long enough.
bool turn_ready(const playout_state& st, steady_clock::time_point now) {
  const auto wanted =
      static_cast<std::size_t>(st.rate_hz) * static_cast<std::size_t>(st.prefill.count()) / 1000;
  return st.queued_samples >= wanted || now - st.turn_arrived >= st.prefill;
}

// Fills st.frame with the next 20 ms: queued audio, then silence. Returns true if any of it was
// agent audio.
bool next_frame(playout_state& st, steady_clock::time_point now) {
  const auto n = static_cast<std::size_t>(st.rate_hz / 50);
  st.frame.assign(n, 0);
  std::size_t filled = 0;
  bool audio = false;
  const bool may_play = st.in_turn || turn_ready(st, now);
  // A turn, for the downlink latency, is audio after silence: the first chunk waited in the
  // jitter buffer since it arrived.
  if (may_play && !st.in_turn && !st.queue.empty()) {
    st.turn_received_ns = st.queue.front().received_ns;
  }
  if (!st.fade_tail.empty()) {
    filled = std::min(n, st.fade_tail.size());
    std::copy_n(st.fade_tail.begin(), filled, st.frame.begin());
    st.fade_tail.erase(st.fade_tail.begin(),
                       st.fade_tail.begin() + static_cast<std::ptrdiff_t>(filled));
    audio = true;
  }
  while (may_play && filled < n && !st.queue.empty()) {
    auto& chunk = st.queue.front();
    const auto take = std::min(n - filled, chunk.samples.size() - st.offset);
    std::copy_n(chunk.samples.begin() + static_cast<std::ptrdiff_t>(st.offset), take,
                st.frame.begin() + static_cast<std::ptrdiff_t>(filled));
    filled += take;
    st.offset += take;
    st.queued_samples -= take;
    audio = true;
    if (st.offset == chunk.samples.size()) {
      st.queue.pop_front();
      st.offset = 0;
    }
  }
  if (audio && filled < n && st.in_turn && st.fade_tail.empty()) {
    st.metrics->underrun();
  }
  st.in_turn = may_play && !st.queue.empty();
  return audio;
}

void record_latencies(playout_state& st) {
  if (!st.turn_received_ns && !st.flushed_at) return;
  const auto written = steady_clock::now();
  if (st.turn_received_ns) {
    st.metrics->downlink_latency(written.time_since_epoch() -
                                 std::chrono::nanoseconds(*st.turn_received_ns));
    st.turn_received_ns.reset();
  }
  if (st.flushed_at) {
    st.metrics->barge_in_latency(written - *st.flushed_at);
    st.flushed_at.reset();
  }
}

void send_frame(playout_ptr self, steady_clock::time_point now) {
  auto& st = self->state;
  const bool audio = next_frame(st, now);
  const auto kind =
      audiosocket::audio_kind_for_rate(st.rate_hz).value_or(audiosocket::kind::slin_8k);
  auto& out = st.frame_bytes;
  out.resize(audiosocket::header_size + st.frame.size() * 2);
  (void)audiosocket::write_header(out.data(), kind,
                                  static_cast<std::uint16_t>(st.frame.size() * 2));
  codecs::store_s16le(st.frame.data(), st.frame.size(), out.data() + audiosocket::header_size);
  if (st.writer->write(out.data(), out.size()) == audiosocket_writer::result::dropped) {
    if (!std::exchange(st.warned_not_reading, true)) {
      log::warn("playout", st.metrics->uuid(),
                "Asterisk is not reading its audio; dropping frames");
    }
  } else {
    st.metrics->frame_out();
  }
  record_latencies(st);
  if (audio) {
    st.report.agent_level_dbfs = codecs::level_dbfs(st.frame.data(), st.frame.size());
    if (!st.first_audio_reported) {
      st.first_audio_reported = true;
      self->send(st.call, atom::first_audio_v);
    }
  }
  if (++st.ticks_since_report >= ticks_per_report) {
    st.ticks_since_report = 0;
    self->send(st.call, st.report);
    st.report.agent_level_dbfs = codecs::silence_floor_dbfs;
  }
}

// Converts a chunk resampled for another caller rate (the caller's rate became known while agent
// audio was on its way) instead of dropping it.
void convert_rate(playout_chunk& chunk, std::int32_t rate_hz) {
  if (chunk.rate_hz == rate_hz) return;
  codecs::resampler converter(chunk.rate_hz, rate_hz);
  std::vector<std::int16_t> out(converter.max_output(chunk.samples.size()));
  out.resize(converter.process(chunk.samples.data(), chunk.samples.size(), out.data(), out.size()));
  chunk.samples = std::move(out);
  chunk.rate_hz = rate_hz;
}

}  // namespace

playout_actor::behavior_type playout(playout_ptr self, audiosocket_writer_ptr writer,
                                     call_actor call, const playout_clock_actor& clock,
                                     std::shared_ptr<metrics::call_metrics> metrics,
                                     std::chrono::milliseconds fade,
                                     std::chrono::milliseconds prefill) {
  auto& st = self->state;
  st.prefill = prefill;
  st.writer = std::move(writer);
  st.call = std::move(call);
  st.metrics = std::move(metrics);
  st.fade = fade;
  self->send(clock, atom::subscribe_v, caf::actor_cast<playout_actor>(self));
  return {
      [self](atom::tick, std::int64_t due_ns) {
        auto& s = self->state;
        const auto now = steady_clock::now();
        if (now.time_since_epoch() - std::chrono::nanoseconds(due_ns) > late_threshold) {
          s.metrics->late_frame();
        }
        send_frame(self, now);
        if (s.draining && s.queue.empty() && s.fade_tail.empty()) {
          s.draining = false;
          self->send(s.call, atom::drained_v);
        }
      },
      [self](playout_chunk& chunk) {
        auto& s = self->state;
        if (chunk.event_id < s.gate_event_id || chunk.samples.empty()) return;
        convert_rate(chunk, s.rate_hz);
        if (chunk.samples.empty()) return;
        if (s.queue.empty() && !s.in_turn) s.turn_arrived = steady_clock::now();
        s.queued_samples += chunk.samples.size();
        s.queue.push_back(std::move(chunk));
      },
      [self](atom::flush, std::int64_t event_id) {
        auto& s = self->state;
        s.gate_event_id = std::max(s.gate_event_id, event_id);
        s.flushed_at = steady_clock::now();
        // Fade out what would have played next over a few ms; drop the rest of the queue.
        const auto fade_samples = static_cast<std::size_t>(s.rate_hz * s.fade.count() / 1000);
        s.fade_tail.clear();
        while (s.fade_tail.size() < fade_samples && !s.queue.empty()) {
          auto& chunk = s.queue.front();
          const auto take =
              std::min(fade_samples - s.fade_tail.size(), chunk.samples.size() - s.offset);
          s.fade_tail.insert(s.fade_tail.end(),
                             chunk.samples.begin() + static_cast<std::ptrdiff_t>(s.offset),
                             chunk.samples.begin() + static_cast<std::ptrdiff_t>(s.offset + take));
          s.offset += take;
          if (s.offset == chunk.samples.size()) {
            s.queue.pop_front();
            s.offset = 0;
          }
        }
        if (!s.fade_tail.empty()) {
          codecs::apply_fade(s.fade_tail.data(), s.fade_tail.size(), 1.0F, 0.0F);
        }
        s.queue.clear();
        s.queued_samples = 0;
        s.offset = 0;
        s.in_turn = false;
      },
      [self](atom::caller_rate, std::int32_t rate) {
        auto& s = self->state;
        if (rate == s.rate_hz) return;
        s.rate_hz = rate;
        s.queued_samples = 0;
        for (auto& chunk : s.queue) {
          if (s.offset > 0) {  // drop what already played of the front chunk
            chunk.samples.erase(chunk.samples.begin(),
                                chunk.samples.begin() + static_cast<std::ptrdiff_t>(s.offset));
            s.offset = 0;
          }
          convert_rate(chunk, rate);
          s.queued_samples += chunk.samples.size();
        }
        s.fade_tail.clear();
      },
      [self](atom::drain) {
        auto& s = self->state;
        if (s.queue.empty() && s.fade_tail.empty()) {
          self->send(s.call, atom::drained_v);
        } else {
          s.draining = true;
        }
      },
  };
}

}  // namespace cb
