#include "apps/callsim/report_format.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>

namespace cb::callsim {

namespace {

constexpr double bar_floor_dbfs = -60.0;

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const char ch : text) {
    const auto byte = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (byte < 0x20) {
      out += fmt::format("\\u{:04x}", byte);
    } else {
      out += ch;
    }
  }
  out += '"';
  return out;
}

// JSON has no NaN or infinity.
double finite(double v) {
  return std::isfinite(v) ? v : 0.0;
}

std::string latency_json(const latency_stats& s) {
  return fmt::format(
      R"({{"count":{},"min_ms":{:.3f},"p50_ms":{:.3f},"p99_ms":{:.3f},"max_ms":{:.3f}}})", s.count,
      s.min_ms, s.p50_ms, s.p99_ms, s.max_ms);
}

}  // namespace

std::string summary_line(const call_report& r) {
  std::string line = fmt::format("{}: sent {}", r.uuid, r.audio_frames_sent);
  if (r.dtmf_sent > 0) line += fmt::format(" dtmf {}", r.dtmf_sent);
  if (r.frames_dropped > 0) line += fmt::format(" dropped {}", r.frames_dropped);
  if (r.late_sends > 0) line += fmt::format(" late {}", r.late_sends);
  line += fmt::format(", received {}", r.audio_frames_received);
  const auto& t = r.timing;
  if (t.frames > 1) {
    line += fmt::format(
        " | gap {:.2f} ms, jitter p50 {:.2f} p99 {:.2f} max {:.2f} ms, late {}, bursts {}",
        t.mean_gap_ms, t.deviation_p50_ms, t.deviation_p99_ms, t.deviation_max_ms, t.late_frames,
        t.bursts);
    if (t.pauses > 0) line += fmt::format(", pauses {}", t.pauses);
  }
  if (r.heard_ms > 0.0) {
    line += fmt::format(" | heard {:.0f} Hz for {:.0f} ms", r.heard_hz, r.heard_ms);
  } else {
    line += " | heard nothing";
  }
  if (r.downlink.count > 0) {
    line +=
        fmt::format(" | downlink p50 {:.2f} p99 {:.2f} ms", r.downlink.p50_ms, r.downlink.p99_ms);
  }
  if (r.protocol_violations > 0) line += fmt::format(" | {} violations", r.protocol_violations);
  line += fmt::format(" | {}", to_string(r.end));
  if (!r.detail.empty()) line += fmt::format(" ({})", r.detail);
  return line;
}

std::string summary_line(const aggregate_report& total) {
  std::string ends;
  for (std::size_t i = 0; i < call_end_count; ++i) {
    if (total.ends[i] == 0) continue;
    if (!ends.empty()) ends += ", ";
    ends += fmt::format("{} {}", to_string(static_cast<call_end>(i)), total.ends[i]);
  }
  std::string line = fmt::format(
      "total: {} calls ({}), sent {}, received {}, jitter p50 {:.2f} p99 {:.2f} max {:.2f} ms, "
      "late {}, bursts {}, dropped {}, violations {}",
      total.calls, ends, total.audio_frames_sent, total.audio_frames_received,
      total.deviation_p50_ms, total.deviation_p99_ms, total.deviation_max_ms, total.late_frames,
      total.bursts, total.frames_dropped, total.protocol_violations);
  if (total.downlink.count > 0) {
    line += fmt::format(", downlink min {:.2f} p50 {:.2f} p99 {:.2f} ms", total.downlink.min_ms,
                        total.downlink.p50_ms, total.downlink.p99_ms);
  }
  line += fmt::format(" | own sending: late {}, worst lag {:.2f} ms", total.late_sends,
                      total.max_send_lag_ms);
  return line;
}

std::string to_json(const call_report& r) {
  const auto& t = r.timing;
  auto out = fmt::format(R"({{"handle":{},"uuid":{},"end":"{}","detail":{},"error_number":{},)"
                         R"("connecting_ns":{},"connected_ns":{},"ended_ns":{},)",
                         static_cast<std::uint64_t>(r.handle), json_string(r.uuid),
                         to_string(r.end), json_string(r.detail), r.error_number, r.connecting_ns,
                         r.connected_ns, r.ended_ns);
  out += fmt::format(R"("sent":{{"audio_frames":{},"audio_bytes":{},"dtmf":{},"dropped":{},)"
                     R"("late":{},"max_lag_ms":{:.3f}}},)",
                     r.audio_frames_sent, r.audio_bytes_sent, r.dtmf_sent, r.frames_dropped,
                     r.late_sends, r.max_send_lag_ms);
  out += fmt::format(
      R"("received":{{"frames":{},"audio_frames":{},"audio_bytes":{},"server_sent_hangup":{},)"
      R"("server_closed":{},"protocol_violations":{}}},)",
      r.frames_received, r.audio_frames_received, r.audio_bytes_received, r.server_sent_hangup,
      r.server_closed, r.protocol_violations);
  out += fmt::format(
      R"("timing":{{"frames":{},"mean_gap_ms":{:.3f},"deviation_p50_ms":{:.3f},)"
      R"("deviation_p99_ms":{:.3f},"deviation_max_ms":{:.3f},"late_frames":{},"bursts":{},)"
      R"("pauses":{},"longest_run_frames":{},"longest_run_ms":{:.1f}}},)",
      t.frames, t.mean_gap_ms, t.deviation_p50_ms, t.deviation_p99_ms, t.deviation_max_ms,
      t.late_frames, t.bursts, t.pauses, t.longest_run_frames, t.longest_run_ms);
  out += fmt::format(
      R"("heard":{{"hz":{:.1f},"ms":{:.1f},"first_ns":{},"last_ns":{}}},"downlink":{}}})",
      finite(r.heard_hz), r.heard_ms, r.first_heard_ns, r.last_heard_ns, latency_json(r.downlink));
  return out;
}

std::string to_json(const aggregate_report& total) {
  std::string ends;
  for (std::size_t i = 0; i < call_end_count; ++i) {
    if (!ends.empty()) ends += ',';
    ends += fmt::format(R"("{}":{})", to_string(static_cast<call_end>(i)), total.ends[i]);
  }
  auto out = fmt::format(
      R"({{"calls":{},"ends":{{{}}},"audio_frames_sent":{},"audio_frames_received":{},)"
      R"("frames_dropped":{},"late_sends":{},"max_send_lag_ms":{:.3f},"protocol_violations":{},)",
      total.calls, ends, total.audio_frames_sent, total.audio_frames_received, total.frames_dropped,
      total.late_sends, total.max_send_lag_ms, total.protocol_violations);
  out += fmt::format(R"("late_frames":{},"bursts":{},"pauses":{},"deviation_p50_ms":{:.3f},)"
                     R"("deviation_p99_ms":{:.3f},"deviation_max_ms":{:.3f},"downlink":{}}})",
                     total.late_frames, total.bursts, total.pauses, total.deviation_p50_ms,
                     total.deviation_p99_ms, total.deviation_max_ms, latency_json(total.downlink));
  return out;
}

std::string level_bar(double level_dbfs, int width) {
  const double fraction = std::clamp((level_dbfs - bar_floor_dbfs) / -bar_floor_dbfs, 0.0, 1.0);
  const auto filled = static_cast<int>(std::lround(fraction * width));
  std::string bar(static_cast<std::size_t>(std::max(width, 0)), '.');
  std::fill_n(bar.begin(), std::clamp(filled, 0, width), '#');
  return bar;
}

}  // namespace cb::callsim
