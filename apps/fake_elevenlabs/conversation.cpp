#include "apps/fake_elevenlabs/conversation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>
#include <variant>

#include "apps/callsim/audio_stamp.hpp"
#include "apps/fake_elevenlabs/random_token.hpp"
#include "codecs/base64.hpp"
#include "protocol/elevenlabs_audio_format.hpp"
#include "protocol/elevenlabs_json.hpp"

namespace cb::fake_elevenlabs {
namespace {

namespace el = elevenlabs;

constexpr std::string_view user_audio_chunk_key = "user_audio_chunk";
constexpr std::string_view audio_prefix = R"({"user_audio_chunk":")";
constexpr std::string_view audio_suffix = R"("})";
// A close frame's payload is at most 125 bytes: the 2-byte code and 123 bytes of reason.
constexpr std::size_t max_close_reason = 123;

double ms_between(clock::time_point from, clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// Cuts text to max bytes without splitting a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0U) == 0x80U)
    --cut;
  return text.substr(0, cut);
}

// The code points of text, each as its UTF-8 bytes (alignment lists characters).
std::vector<std::string> utf8_characters(std::string_view text) {
  std::vector<std::string> characters;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t j = i + 1;
    while (j < text.size() && (static_cast<unsigned char>(text[j]) & 0xC0U) == 0x80U)
      ++j;
    characters.emplace_back(text.substr(i, j - i));
    i = j;
  }
  return characters;
}

std::string variable_text(const el::dynamic_variable& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  if (const auto* i = std::get_if<std::int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) return fmt::format("{}", *d);
  return std::get<bool>(value) ? "true" : "false";
}

// The first overridden field's name, as the real service names it in override_error.
std::string first_override_field(const el::config_override_payload& payload) {
  const auto* c = std::get_if<el::config_override>(&payload);
  if (c == nullptr) return "conversation_config_override";
  if (c->agent) {
    if (c->agent->prompt) return "prompt";
    if (c->agent->first_message) return "first_message";
    if (c->agent->language) return "language";
  }
  if (c->tts) return "voice_id";
  if (c->asr) return "keywords";
  if (c->conversation) return "text_only";
  return "conversation_config_override";
}

std::string python_set(const std::vector<std::string>& names) {
  std::string text = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) text += ", ";
    text += "'" + names[i] + "'";
  }
  return text + "}";
}

}  // namespace

conversation::conversation(const conversation_env& env, lws* wsi, agent_profile profile,
                           std::string conversation_id, std::size_t record_index)
    : env_(env),
      wsi_(wsi),
      profile_(std::move(profile)),
      conversation_id_(std::move(conversation_id)),
      record_index_(record_index),
      scenario_(make_scenario(profile_)),
      analyzer_(profile_, profile_.scenario == scenario_kind::echo),
      init_timer_{{}, this, &conversation::init_timeout_fired},
      ping_timer_{{}, this, &conversation::ping_fired},
      scenario_timer_{{}, this, &conversation::scenario_fired},
      chunk_samples_(static_cast<std::size_t>(profile_.output.rate_hz) *
                     static_cast<std::size_t>(profile_.chunk_ms) / 1000) {
  rx_.reserve(4096);
  parse_buffer_.reserve(4096 + el::detail::in_place_padding);
}

conversation::~conversation() {
  cancel_timers();
}

void conversation::on_timer(lws_sorted_usec_list_t* sul) {
  // The sul is the first member of a standard-layout timer_slot.
  auto* slot = reinterpret_cast<timer_slot*>(sul);  // NOLINT(*-reinterpret-cast)
  (slot->owner->*slot->fire)();
}

void conversation::cancel_timers() {
  for (auto* slot : {&init_timer_, &ping_timer_, &scenario_timer_}) {
    lws_sul_cancel(&slot->sul);
  }
  env_.pacing->cancel(*this);
}

void conversation::arm(timer_slot& slot, std::chrono::microseconds delay) const {
  lws_sul_schedule(env_.context, 0, &slot.sul, &conversation::on_timer,
                   std::max<lws_usec_t>(delay.count(), 1));
}

// --- lws events ----------------------------------------------------------------------------------

void conversation::established() {
  log_event("--",
            fmt::format("connected: agent {} ({}, in {}, out {})", profile_.agent_id,
                        to_string(profile_.scenario), el::format_name(profile_.input).value_or("?"),
                        el::format_name(profile_.output).value_or("?")));
  if (profile_.scenario != scenario_kind::stall) arm(init_timer_, env_.init_timeout);
}

void conversation::receive(const void* in, std::size_t len) {
  if (rx_.empty()) rx_binary_ = lws_frame_is_binary(wsi_) != 0;
  if (rx_.size() + len > max_frame_bytes) {
    if (!closing_) {
      update([](conversation_record& r) { r.errors.emplace_back("frame larger than 16 MiB"); });
      close(LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "Message too big");
    }
    rx_.clear();
    return;
  }
  rx_.append(static_cast<const char*>(in), len);
  if (lws_is_final_fragment(wsi_) == 0 || lws_remaining_packet_payload(wsi_) != 0) return;
  handle_frame();
  rx_.clear();
}

int conversation::writeable() {
  if (tx_.empty()) return 0;
  outgoing& item = tx_.front();
  const auto now = clock::now();
  if (item.kind == frame_kind::close) {
    const std::string_view reason = std::string_view(item.frame).substr(LWS_PRE);
    std::string payload(reason);
    lws_close_reason(
        wsi_, static_cast<lws_close_status>(item.id),
        reinterpret_cast<unsigned char*>(payload.data()),  // NOLINT(*-reinterpret-cast)
        payload.size());
    const int code = static_cast<int>(item.id);
    update([&](conversation_record& r) {
      r.server_close = close_frame{code, payload};
      if (r.state == close_kind::open) r.state = close_kind::server_close;
    });
    log_event("->", fmt::format("close {} \"{}\"", code, payload));
    tx_.clear();
    return -1;
  }
  auto* data = reinterpret_cast<unsigned char*>(item.frame.data());  // NOLINT(*-reinterpret-cast)
  const std::size_t size = item.frame.size() - LWS_PRE;
  if (lws_write(wsi_, data + LWS_PRE, size, LWS_WRITE_TEXT) < 0) return -1;
  if (item.kind == frame_kind::ping) {
    for (auto& p : outstanding_pings_) {
      if (p.id == item.id) p.written_at = now;
    }
  } else if (item.kind == frame_kind::interruption) {
    update([&](conversation_record& r) {
      r.interruption_sent_at = now;
      for (auto& i : r.interruptions) {
        if (i.event_id == item.id && !i.sent_at) i.sent_at = now;
      }
    });
  }
  tx_.pop_front();
  if (!tx_.empty()) lws_callback_on_writable(wsi_);
  return 0;
}

void conversation::peer_closing(const std::uint8_t* payload, std::size_t len) {
  close_frame frame;
  frame.code =
      len >= 2 ? (payload[0] << 8U) | payload[1] : static_cast<int>(LWS_CLOSE_STATUS_NO_STATUS);
  if (len > 2) frame.reason.assign(reinterpret_cast<const char*>(payload + 2), len - 2);
  closing_ = true;
  update([&](conversation_record& r) {
    r.client_close = frame;
    if (r.state == close_kind::open) r.state = close_kind::client_close;
  });
  log_event("<-", fmt::format("close {} \"{}\"", frame.code, frame.reason));
}

void conversation::closed() {
  cancel_timers();
  const bool stopping = env_.stopping != nullptr && env_.stopping->load();
  const auto now = clock::now();
  close_kind state = close_kind::open;
  update([&](conversation_record& r) {
    r.closed_at = now;
    if (r.state == close_kind::open) {
      r.state = stopping ? close_kind::server_stopped : close_kind::dropped;
    }
    state = r.state;
  });
  if (state == close_kind::dropped) {
    log_event("--", "connection dropped without a close frame");
  } else {
    log_event("--", "disconnected");
  }
}

// --- client messages ----------------------------------------------------------------------------

void conversation::handle_frame() {
  if (closing_) return;
  if (rx_binary_) {
    reject_frame("binary frame (the protocol uses JSON text frames)");
    return;
  }
  // Audio arrives 50 times a second. The bridge writes it in exactly the form
  // append_user_audio_chunk produces, {"user_audio_chunk":"<base64>"}: recognised by its fixed
  // prefix and suffix, it needs no JSON parser at all (base64 has no characters JSON escapes, so
  // such a frame is valid JSON exactly when its payload decodes). Profiled at 300 conversations,
  // this saves a fifth of the service thread's time per chunk (about 1.3 us: the parser's UTF-8
  // validation and string scan of ~1 kB). Frames of any other shape take the generic path below.
  const std::string_view frame(rx_);
  if (frame.size() >= audio_prefix.size() + audio_suffix.size() &&
      frame.substr(0, audio_prefix.size()) == audio_prefix &&
      frame.substr(frame.size() - audio_suffix.size()) == audio_suffix) {
    const auto payload =
        frame.substr(audio_prefix.size(), frame.size() - audio_prefix.size() - audio_suffix.size());
    if (codecs::base64::decode(payload, audio_in_)) {
      handle_audio(audio_in_);
      return;
    }
  }
  // Other audio frames: parse a copy in place (the DOM lives in a stack arena; no allocation
  // once the buffers have grown) and decode the base64 into the reused audio buffer.
  if (frame.find(R"("user_audio_chunk")") != std::string_view::npos) {
    parse_buffer_.assign(rx_);
    el::detail::parsed_document document;
    if (auto error = document.parse_object_in_place(parse_buffer_)) {
      reject_frame(el::to_string(*error));
      return;
    }
    std::optional<el::parse_error> error;
    el::detail::field_reader root(document.root(), error);
    if (root.has(user_audio_chunk_key)) {
      root.read_base64(user_audio_chunk_key, audio_in_);
      if (error) {
        reject_frame(el::to_string(*error));
        return;
      }
      handle_audio(audio_in_);
      return;
    }
  }
  auto message = el::parse_client_message(rx_);
  if (!message) {
    reject_frame(el::to_string(message.error()));
    return;
  }
  handle_message(*message);
}

void conversation::handle_message(el::client_message& message) {
  if (auto* init = std::get_if<el::conversation_initiation_client_data>(&message)) {
    handle_init(*init);
  } else if (auto* audio = std::get_if<el::user_audio_chunk>(&message)) {
    handle_audio(audio->audio);
  } else if (auto* pong = std::get_if<el::pong>(&message)) {
    handle_pong(pong->event_id);
  } else if (auto* text = std::get_if<el::user_message>(&message)) {
    update([&](conversation_record& r) { r.user_messages.push_back(text->text); });
    log_event("<-", "user_message: " + text->text);
    if (started_) scenario_->user_message(*this, text->text);
  } else if (auto* context = std::get_if<el::contextual_update>(&message)) {
    update([&](conversation_record& r) { r.contextual_updates.push_back(*context); });
    log_event("<-", "contextual_update: " + context->text);
  } else if (std::holds_alternative<el::user_activity>(message)) {
    update([](conversation_record& r) { ++r.user_activities; });
    log_event("<-", "user_activity", true);
  } else if (auto* result = std::get_if<el::client_tool_result>(&message)) {
    const bool matches = std::find(tool_call_ids_.begin(), tool_call_ids_.end(),
                                   result->tool_call_id) != tool_call_ids_.end();
    const auto now = clock::now();
    update([&](conversation_record& r) {
      r.tool_results.push_back(tool_result_record{*result, matches, now});
      if (!matches) {
        r.errors.push_back("client_tool_result for unknown tool_call_id " + result->tool_call_id);
      }
    });
    log_event("<-", fmt::format("client_tool_result {} (is_error {}): {}", result->tool_call_id,
                                result->is_error, result->result));
    if (started_) scenario_->tool_result(*this, *result);
  } else {
    std::string_view type = "multimodal_message";
    if (std::holds_alternative<el::mcp_tool_approval_result>(message)) {
      type = "mcp_tool_approval_result";
    } else if (std::holds_alternative<el::feedback>(message)) {
      type = "feedback";
    }
    update([&](conversation_record& r) { r.other_messages.emplace_back(type); });
    log_event("<-", type);
  }
}

void conversation::handle_audio(const std::vector<std::uint8_t>& audio) {
  const auto now = clock::now();
  const bool early = !metadata_sent_;
  // Reported once: a bridge that splits samples does it on every chunk.
  const bool odd = profile_.input.enc == codecs::encoding::pcm_s16le && audio.size() % 2 != 0 &&
                   !odd_size_reported_;
  odd_size_reported_ = odd_size_reported_ || odd;
  update([&](conversation_record& r) {
    auto& a = r.user_audio;
    if (early && a.chunks_before_metadata++ == 0) {
      r.errors.emplace_back("user_audio_chunk before conversation_initiation_metadata");
    }
    if (odd) r.errors.push_back(fmt::format("odd PCM byte count {}", audio.size()));
    if (!a.first_chunk_at) a.first_chunk_at = now;
    a.last_chunk_at = now;
    analyzer_.process(audio.data(), audio.size(), now, a);
  });
  auto events = analyzer_.take_events();
  if (!started_ || closing_) return;
  if (analyzer_.in_turn()) scenario_->user_speaking(*this, analyzer_.turn_voiced_ms());
  for (auto& turn : events.turns_ended) {
    update([&](conversation_record& r) {
      r.user_turns.push_back(
          user_turn_record{0, turn.start_ms, turn.voiced_ms, turn.frequency_hz, now});
    });
    log_event("<-",
              fmt::format("caller turn: {} ms voiced at {:.0f} Hz, from {:.2f} s",
                          std::lround(turn.voiced_ms), turn.frequency_hz, turn.start_ms / 1000.0));
    scenario_->user_turn(*this, turn);
    if (closing_) return;
  }
}

void conversation::handle_init(el::conversation_initiation_client_data& init) {
  const auto now = clock::now();
  const bool first = !init_;
  update([&](conversation_record& r) {
    ++r.init_messages;
    if (first) {
      r.init = init;
      r.init_json = rx_;
      r.init_received_at = now;
    } else {
      r.errors.emplace_back("repeated conversation_initiation_client_data");
    }
  });
  if (logging()) {
    log_event("<-", fmt::format("conversation_initiation_client_data: user_id {}, {} dynamic "
                                "variables, overrides {}",
                                init.user_id.value_or("-"),
                                init.dynamic_variables ? init.dynamic_variables->size() : 0,
                                init.conversation_config_override ? "yes" : "no"));
  }
  if (!first) return;
  init_ = std::move(init);
  if (!metadata_sent_ && profile_.scenario != scenario_kind::stall) {
    lws_sul_cancel(&init_timer_.sul);
    send_metadata();
  }
}

void conversation::handle_pong(std::int64_t event_id) {
  const auto now = clock::now();
  const auto it = std::find_if(
      outstanding_pings_.begin(), outstanding_pings_.end(),
      [&](const outstanding_ping& p) { return p.id == event_id && p.written_at.has_value(); });
  if (it == outstanding_pings_.end()) {
    update([&](conversation_record& r) {
      ++r.pings.pongs_unmatched;
      r.errors.push_back(fmt::format("pong for unknown ping event_id {}", event_id));
    });
    log_event("<-", fmt::format("pong {} matches no ping", event_id));
    return;
  }
  const auto rtt = std::chrono::duration_cast<std::chrono::microseconds>(now - *it->written_at);
  outstanding_pings_.erase(it);
  last_rtt_ms_ = std::lround(static_cast<double>(rtt.count()) / 1000.0);
  update([&](conversation_record& r) {
    ++r.pings.pongs_matched;
    r.pings.rtts.push_back(rtt);
  });
  log_event("<-", fmt::format("pong {} after {} us", event_id, rtt.count()), true);
}

void conversation::reject_frame(std::string_view what) {
  update(
      [&](conversation_record& r) { r.errors.push_back("invalid message: " + std::string(what)); });
  el::error_event error;
  error.code = LWS_CLOSE_STATUS_POLICY_VIOLATION;
  error.error_type = "invalid_message";
  error.message = "Invalid message received";
  error.reason = std::string(what);
  fail(error, LWS_CLOSE_STATUS_POLICY_VIOLATION, "Invalid message received");
}

void conversation::send_metadata() {
  metadata_sent_ = true;
  const auto now = clock::now();
  el::conversation_initiation_metadata_event metadata;
  metadata.conversation_id = conversation_id_;
  metadata.agent_output_audio_format = std::string(el::format_name(profile_.output).value_or(""));
  metadata.user_input_audio_format = std::string(el::format_name(profile_.input).value_or(""));
  queue_event(metadata);
  update([&](conversation_record& r) {
    r.metadata_sent_at = now;
    r.metadata_after_init_timeout = !init_.has_value();
  });
  log_event("->", fmt::format("conversation_initiation_metadata (in {}, out {}){}",
                              metadata.user_input_audio_format, metadata.agent_output_audio_format,
                              init_ ? "" : " without an init message"));
  arm(ping_timer_, env_.ping_interval);

  std::vector<std::string> missing;
  for (const auto& name : profile_.required_dynamic_variables) {
    if (!init_ || !init_->dynamic_variables || init_->dynamic_variables->count(name) == 0) {
      missing.push_back(name);
    }
  }
  if (!missing.empty()) {
    el::error_event error;
    error.code = LWS_CLOSE_STATUS_POLICY_VIOLATION;
    error.error_type = "missing_dynamic_variable";
    error.message = "Missing required dynamic variables in first message: " + python_set(missing);
    error.reason = error.message;
    fail(error, LWS_CLOSE_STATUS_POLICY_VIOLATION, error.message);
    return;
  }
  if (!profile_.overrides_allowed && init_ && init_->conversation_config_override) {
    el::error_event error;
    error.code = LWS_CLOSE_STATUS_POLICY_VIOLATION;
    error.error_type = "override_error";
    error.message = "Override for field '" +
                    first_override_field(*init_->conversation_config_override) +
                    "' is not allowed by config.";
    error.reason = error.message;
    fail(error, LWS_CLOSE_STATUS_POLICY_VIOLATION, error.message);
    return;
  }
  started_ = true;
  scenario_->start(*this);
}

// --- timers --------------------------------------------------------------------------------------

void conversation::init_timeout_fired() {
  if (!metadata_sent_ && !closing_) send_metadata();
}

void conversation::ping_fired() {
  if (closing_) return;
  std::uint64_t missing = 0;
  outstanding_pings_.erase(std::remove_if(outstanding_pings_.begin(), outstanding_pings_.end(),
                                          [&](const outstanding_ping& p) {
                                            if (!p.written_at) return false;
                                            ++missing;
                                            return true;
                                          }),
                           outstanding_pings_.end());
  const std::int64_t id = ++last_ping_id_;
  outstanding_pings_.push_back({id, std::nullopt});
  queue_event(el::ping_event{id, last_rtt_ms_}, frame_kind::ping, id);
  update([&](conversation_record& r) {
    ++r.pings.pings_sent;
    r.pings.pongs_missing += missing;
  });
  log_event("->", fmt::format("ping {}", id), true);
  arm(ping_timer_, env_.ping_interval);
}

void conversation::grid_timer_fired() {
  if (turn_) {
    pump_turn();
  } else {
    start_next_turn();
  }
}

void conversation::scenario_fired() {
  if (!closing_) scenario_->timer(*this);
}

// --- agent turns ---------------------------------------------------------------------------------

void conversation::say(agent_utterance utterance) {
  if (closing_) return;
  pending_turns_.push_back(std::move(utterance));
  // Started from the loop, never inside say(): the scenario gets to note the turn's id before
  // turn_sent() can report it.
  if (!turn_) env_.pacing->schedule(*this, std::chrono::microseconds(0));
}

void conversation::start_next_turn() {
  while (!turn_ && !pending_turns_.empty() && !closing_) {
    agent_utterance utterance = std::move(pending_turns_.front());
    pending_turns_.pop_front();
    const auto now = clock::now();
    const std::int64_t id = utterance.event_id;
    if (!utterance.text.empty()) {
      queue_event(el::agent_response_event{utterance.text, id});
      log_event("->", fmt::format("agent_response #{}: {}", id, utterance.text));
    }
    const double total_ms =
        utterance.audio
            ? 1000.0 * static_cast<double>(utterance.audio->total()) / profile_.output.rate_hz
            : 0.0;
    std::size_t record_turn = 0;
    update([&](conversation_record& r) {
      r.agent_turns.push_back(agent_turn_record{id, utterance.text, 0, 0, now, false});
      record_turn = r.agent_turns.size() - 1;
    });
    if (!utterance.audio || utterance.audio->remaining() == 0) {
      scenario_->turn_sent(*this, id);
      continue;
    }
    turn_ = playing_turn{std::move(utterance), now, 0.0, total_ms, record_turn};
    pump_turn();
  }
}

void conversation::pump_turn() {
  if (!turn_ || closing_) return;
  playing_turn& t = *turn_;
  const auto now = clock::now();
  const double rate = profile_.output.rate_hz;
  const double allowed = t.utterance.whole_burst
                             ? std::numeric_limits<double>::infinity()
                             : profile_.burst_ms + profile_.speed * ms_between(t.started_at, now);
  audio_source& source = *t.utterance.audio;
  std::uint64_t chunks = 0;
  while (source.remaining() > 0) {
    const double next_ms =
        1000.0 * static_cast<double>(std::min(source.remaining(), chunk_samples_.size())) / rate;
    if (t.sent_ms > 0 && t.sent_ms + next_ms > allowed) break;
    send_chunk(t.utterance.event_id, source,
               t.utterance.with_alignment ? &t.utterance.text : nullptr, t.sent_ms, t.total_ms);
    t.sent_ms += next_ms;
    ++chunks;
  }
  const double sent_ms = t.sent_ms;
  update([&](conversation_record& r) {
    auto& record = r.agent_turns[t.record_turn];
    record.audio_ms = sent_ms;
    record.chunks += chunks;
  });
  if (source.remaining() == 0) {
    const std::int64_t id = t.utterance.event_id;
    log_event("->", fmt::format("audio #{}: {:.0f} ms sent", id, sent_ms));
    turn_.reset();
    scenario_->turn_sent(*this, id);
    start_next_turn();
    return;
  }
  const double chunk_ms = 1000.0 * static_cast<double>(chunk_samples_.size()) / rate;
  const double due_ms = (t.sent_ms + chunk_ms - profile_.burst_ms) / profile_.speed;
  const double wait_ms = due_ms - ms_between(t.started_at, now);
  env_.pacing->schedule(*this,
                        std::chrono::microseconds(std::lround(std::max(wait_ms, 1.0) * 1000.0)));
}

void conversation::send_chunk(std::int64_t event_id, audio_source& source,
                              const std::string* align_text, double offset_ms, double total_ms) {
  const std::size_t offset = source.total() - source.remaining();
  const std::size_t n = source.read(chunk_samples_.data(), chunk_samples_.size());
  const auto now = clock::now();
  if (profile_.stamp_audio && profile_.output.enc == codecs::encoding::pcm_s16le) {
    // A stamp at the start of every 20 ms frame of the turn, the grid the caller hears it on.
    const std::size_t frame = profile_.output.samples_per_20ms();
    const std::int64_t now_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
    for (std::size_t p = (frame - offset % frame) % frame; p + callsim::stamp::samples <= n;
         p += frame) {
      callsim::stamp::write(chunk_samples_.data() + p, now_ns);
    }
  }
  const auto duration = std::chrono::duration_cast<clock::duration>(
      std::chrono::duration<double>(static_cast<double>(n) / profile_.output.rate_hz));
  playout_end_ = std::max(playout_end_, now) + duration;
  encode_output(chunk_samples_.data(), n, profile_.output, audio_out_.audio);
  audio_out_.event_id = event_id;
  if (align_text != nullptr && !align_text->empty() && total_ms > 0) {
    const auto characters = utf8_characters(*align_text);
    const double per_char = total_ms / static_cast<double>(characters.size());
    const double chunk_ms = 1000.0 * static_cast<double>(n) / profile_.output.rate_hz;
    auto& alignment = audio_out_.alignment ? *audio_out_.alignment : audio_out_.alignment.emplace();
    alignment.chars.clear();
    alignment.char_start_times_ms.clear();
    alignment.char_durations_ms.clear();
    for (std::size_t i = 0; i < characters.size(); ++i) {
      const double start = static_cast<double>(i) * per_char - offset_ms;
      if (start < 0 || start >= chunk_ms) continue;
      alignment.chars.push_back(characters[i]);
      alignment.char_start_times_ms.push_back(std::round(start));
      alignment.char_durations_ms.push_back(std::round(per_char));
    }
  } else {
    audio_out_.alignment.reset();
  }
  if (std::string* frame = new_frame(frame_kind::text)) el::serialize(audio_out_, *frame);
  log_event("->", fmt::format("audio #{} {} samples", event_id, n), true);
}

// --- scenario actions
// -----------------------------------------------------------------------------

std::optional<std::string> conversation::greeting_text() const {
  std::string text = profile_.greeting_text;
  if (init_ && init_->conversation_config_override) {
    const auto* typed = std::get_if<el::config_override>(&*init_->conversation_config_override);
    if (typed != nullptr && typed->agent && typed->agent->first_message) {
      text = *typed->agent->first_message;
    }
  }
  if (text.empty()) return std::nullopt;
  std::string out;
  std::size_t at = 0;
  for (;;) {
    const auto open = text.find("{{", at);
    const auto end = open == std::string::npos ? open : text.find("}}", open + 2);
    if (end == std::string::npos) break;
    out.append(text, at, open - at);
    const std::string name = text.substr(open + 2, end - open - 2);
    const el::dynamic_variable* value = nullptr;
    if (init_ && init_->dynamic_variables) {
      const auto it = init_->dynamic_variables->find(name);
      if (it != init_->dynamic_variables->end()) value = &it->second;
    }
    out += value != nullptr ? variable_text(*value) : text.substr(open, end + 2 - open);
    at = end + 2;
  }
  out.append(text, at, std::string::npos);
  return out;
}

void conversation::send(const el::server_event& event) {
  if (closing_) return;
  if (const auto* call = std::get_if<el::client_tool_call_event>(&event)) {
    tool_call_ids_.push_back(call->tool_call_id);
    update([&](conversation_record& r) { r.tool_calls_sent.push_back(call->tool_call_id); });
    log_event("->", fmt::format("client_tool_call {} {} {}", call->tool_name, call->tool_call_id,
                                call->parameters.text()));
  } else if (const auto* transcript = std::get_if<el::user_transcript_event>(&event)) {
    update([&](conversation_record& r) {
      if (!r.user_turns.empty() && r.user_turns.back().event_id == 0) {
        r.user_turns.back().event_id = transcript->event_id;
      }
    });
    log_event("->", fmt::format("user_transcript #{}: {}", transcript->event_id,
                                transcript->user_transcript));
  } else if (const auto* tool = std::get_if<el::agent_tool_response_event>(&event)) {
    log_event("->", fmt::format("agent_tool_response {} ({})", tool->tool_name, tool->tool_type));
  } else if (const auto* error = std::get_if<el::error_event>(&event)) {
    log_event("->", fmt::format("error {} {}: {}", error->code.value_or(0),
                                error->error_type.value_or("-"), error->message));
  } else if (const auto* correction = std::get_if<el::agent_response_correction_event>(&event)) {
    log_event("->", fmt::format("agent_response_correction #{}: {}", correction->event_id,
                                correction->corrected_agent_response));
  } else {
    log_event("->", el::serialize(event), true);
  }
  queue_event(event);
}

void conversation::send_json(std::string json) {
  std::string* frame = new_frame(frame_kind::text);
  if (frame == nullptr) return;
  log_event("->", json, true);
  frame->append(json);
}

void conversation::interrupt(std::int64_t event_id) {
  if (closing_) return;
  const bool speaking = agent_speaking();
  if (turn_) {
    env_.pacing->cancel(*this);
    turn_.reset();
  }
  pending_turns_.clear();
  playout_end_ = clock::now();
  queue_event(el::interruption_event{event_id}, frame_kind::interruption, event_id);
  // Caller speech that interrupted the agent carries the caller's stamps: keep the one that
  // identifies the frame, so a benchmark can match the interruption with the call.
  const auto caller_stamp = analyzer_.in_turn() ? analyzer_.voiced_stamp_ns() : std::nullopt;
  update([&](conversation_record& r) {
    r.interruption_event_id = event_id;
    r.interruptions.push_back(interruption_record{event_id, std::nullopt, caller_stamp});
    if (speaking && !r.agent_turns.empty()) r.agent_turns.back().interrupted = true;
  });
  log_event("->", fmt::format("interruption #{}", event_id));
}

void conversation::send_stale_audio(std::int64_t event_id, audio_source& source, int chunks) {
  // Stale audio is dropped by the client, so it does not extend what the caller hears.
  const auto playout_end = playout_end_;
  std::uint64_t sent = 0;
  for (int i = 0; i < chunks && source.remaining() > 0 && !closing_; ++i, ++sent) {
    send_chunk(event_id, source, nullptr, 0, 0);
  }
  playout_end_ = playout_end;
  update([&](conversation_record& r) { r.stale_chunks_sent += sent; });
  log_event("->", fmt::format("{} stale audio chunks of #{}", sent, event_id));
}

void conversation::fail(const el::error_event& error, int code, std::string_view reason) {
  send(error);
  close(code, reason);
}

void conversation::close(int code, std::string_view reason) {
  std::string* frame = new_frame(frame_kind::close, code);
  if (frame == nullptr) return;
  frame->append(utf8_prefix(reason, max_close_reason));
  closing_ = true;
  pending_turns_.clear();
  turn_.reset();
  cancel_timers();
}

void conversation::set_timer(std::chrono::milliseconds delay) {
  arm(scenario_timer_, delay);
}

void conversation::stop_reading() {
  lws_rx_flow_control(wsi_, 0);
  log_event("--", "stopped reading the socket");
}

bool conversation::agent_speaking() const {
  return turn_.has_value() || clock::now() < playout_end_;
}

std::string conversation::random_id(std::string_view prefix) {
  return random_token(*env_.rng, prefix, 24);
}

void conversation::log(std::string_view line) {
  log_event("--", line);
}

// --- sending -------------------------------------------------------------------------------------

std::string* conversation::new_frame(frame_kind kind, std::int64_t id) {
  if (closing_) return nullptr;
  tx_.push_back(outgoing{std::string(LWS_PRE, '\0'), kind, id});
  if (tx_.size() == 1) lws_callback_on_writable(wsi_);
  return &tx_.back().frame;
}

void conversation::queue_event(const el::server_event& event, frame_kind kind, std::int64_t id) {
  if (std::string* frame = new_frame(kind, id)) el::serialize(event, *frame);
}

void conversation::log_event(std::string_view direction, std::string_view text, bool verbose_only) {
  if (!logging() || (verbose_only && !env_.verbose)) return;
  (*env_.log)(fmt::format("{} {} {}", conversation_id_, direction, text));
}

}  // namespace cb::fake_elevenlabs
