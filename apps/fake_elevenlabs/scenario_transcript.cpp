// transcript: a chatty, realistic-looking conversation for the demo. The agent greets with
// speech-like audio and per-character alignment, reports the caller's voice activity (vad_score),
// transcribes each caller turn (tentative, then final; canned text, as no ASR runs here), answers
// with the next line of a support dialogue, corrects a reply the caller barged into, and mixes in
// event types the client must ignore (agent_response_metadata, internal_turn_probability).
#include <array>
#include <string_view>
#include <utility>

#include "apps/fake_elevenlabs/scenario.hpp"
#include "protocol/elevenlabs_json.hpp"

namespace cb::fake_elevenlabs {
namespace {

struct exchange {
  std::string_view caller;
  std::string_view agent;
};

constexpr std::array<exchange, 4> dialogue{{
    {"Hi, I'd like to check on my order.", "Sure! Could you tell me your order number?"},
    {"It's order number forty-two.",
     "Thanks. Order forty-two shipped yesterday and should arrive on Friday."},
    {"Can you also update my delivery address?",
     "Of course. I have sent you a secure link to update your address by text message."},
    {"Great, thank you. That's all.", "You're welcome! Have a great day."},
}};

std::string turn_probability_event(double probability) {
  std::string json;
  elevenlabs::detail::json_writer w(json);
  w.begin_object().key("type").string("internal_turn_probability");
  w.key("turn_probability_internal_event").begin_object();
  w.key("turn_probability").number(probability).end_object().end_object();
  return json;
}

std::string response_metadata_event(std::int64_t event_id) {
  std::string json;
  elevenlabs::detail::json_writer w(json);
  w.begin_object().key("type").string("agent_response_metadata");
  w.key("agent_response_metadata_event").begin_object();
  w.key("event_id").integer(event_id).end_object().end_object();
  return json;
}

// The first half of the words, as far as the caller heard the reply before barging in.
std::string truncated(std::string_view text) {
  std::size_t cut = text.size() / 2;
  while (cut > 0 && text[cut] != ' ')
    --cut;
  return std::string(text.substr(0, cut)) + "...";
}

class transcript_scenario final : public conversational_scenario {
 public:
  void start(scenario_context& ctx) override {
    if (auto id = say_greeting(ctx, true)) remember_reply(*id, ctx.greeting_text().value_or(""));
  }

  void user_speaking(scenario_context& ctx, double voiced_ms) override {
    if (!speech_reported_) {
      speech_reported_ = true;
      ctx.send(elevenlabs::vad_score_event{0.93});
    }
    conversational_scenario::user_speaking(ctx, voiced_ms);
  }

  void user_message(scenario_context& ctx, const std::string& /*text*/) override {
    reply(ctx, next_line().agent);
  }

  void turn_sent(scenario_context& ctx, std::int64_t event_id) override {
    ctx.send_json(response_metadata_event(event_id));
  }

 private:
  void answer_turn(scenario_context& ctx, completed_turn& /*turn*/,
                   std::int64_t event_id) override {
    speech_reported_ = false;
    ctx.send(elevenlabs::vad_score_event{0.04});
    ctx.send_json(turn_probability_event(0.97));
    const exchange& line = next_line();
    ctx.send(elevenlabs::tentative_user_transcript_event{truncated(line.caller), event_id});
    ctx.send(elevenlabs::user_transcript_event{std::string(line.caller), event_id});
    reply(ctx, line.agent);
  }

  void barged_in(scenario_context& ctx, std::int64_t /*interruption_id*/) override {
    if (last_reply_text_.empty()) return;
    ctx.send(elevenlabs::agent_response_correction_event{
        last_reply_text_, truncated(last_reply_text_), last_reply_id_});
  }

  void reply(scenario_context& ctx, std::string_view text) {
    agent_utterance answer;
    answer.event_id = ctx.next_event_id();
    answer.text = std::string(text);
    answer.audio = make_speech(text, ctx.profile().output.rate_hz);
    answer.with_alignment = true;
    remember_reply(answer.event_id, answer.text);
    ctx.say(std::move(answer));
  }

  void remember_reply(std::int64_t event_id, std::string text) {
    last_reply_id_ = event_id;
    last_reply_text_ = std::move(text);
  }

  const exchange& next_line() { return dialogue[lines_++ % dialogue.size()]; }

  bool speech_reported_ = false;
  std::size_t lines_ = 0;
  std::int64_t last_reply_id_ = 0;
  std::string last_reply_text_;
};

}  // namespace

std::unique_ptr<scenario> make_transcript_scenario() {
  return std::make_unique<transcript_scenario>();
}

}  // namespace cb::fake_elevenlabs
