#include "apps/fake_elevenlabs/agent_profile.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <system_error>
#include <utility>

#include "protocol/elevenlabs_audio_format.hpp"
#include "protocol/elevenlabs_json.hpp"

namespace cb::fake_elevenlabs {
namespace {

struct scenario_name {
  scenario_kind kind;
  std::string_view name;
};

constexpr std::array<scenario_name, 10> scenario_names{{
    {scenario_kind::tone, "tone"},
    {scenario_kind::echo, "echo"},
    {scenario_kind::interrupt, "interrupt"},
    {scenario_kind::end_call, "end_call"},
    {scenario_kind::client_tool, "client_tool"},
    {scenario_kind::error, "error"},
    {scenario_kind::stall, "stall"},
    {scenario_kind::slow_reader, "slow_reader"},
    {scenario_kind::refuse, "refuse"},
    {scenario_kind::transcript, "transcript"},
}};

// The error variants selectable by name, each as the real service sends it.
struct error_variant {
  std::string_view name;
  int code;
  std::string_view type;
  std::string_view message;
  bool flat;
  std::string_view close_reason;
};

constexpr std::array<error_variant, 5> error_variants{{
    {"error", 1002, "llm_timeout", "The LLM did not respond within 20 seconds.", false, ""},
    {"error_1002", 1002, "llm_timeout", "The LLM did not respond within 20 seconds.", false, ""},
    {"error_1008", 1008, "override_error",
     "Override for field 'first_message' is not allowed by config.", false, ""},
    {"error_1011", 1011, "unknown_websocket_crash", "Unexpected error in websocket endpoint", false,
     ""},
    {"error_quota", 1002, "",
     "received 1002 (protocol error) This request exceeds your quota limit.; then sent 1002 "
     "(protocol error) This request exceeds your quota limit.",
     true, "This request exceeds your quota limit."},
}};

std::optional<agent_profile> profile_for_scenario_name(std::string agent_id,
                                                       std::string_view name) {
  for (const auto& variant : error_variants) {
    if (variant.name != name) continue;
    agent_profile p = make_profile(std::move(agent_id), scenario_kind::error);
    p.error_code = variant.code;
    p.error_type = std::string(variant.type);
    p.error_message = std::string(variant.message);
    p.flat_error = variant.flat;
    p.error_close_reason = std::string(variant.close_reason);
    return p;
  }
  const auto kind = parse_scenario_kind(name);
  if (!kind) return std::nullopt;
  return make_profile(std::move(agent_id), *kind);
}

std::optional<codecs::audio_format> format_named(std::string_view name) {
  return elevenlabs::parse_audio_format(name);
}

std::optional<double> to_double(std::string_view text) {
  double value = 0;
  const auto* last = text.data() + text.size();
  const auto r = std::from_chars(text.data(), last, value);
  if (r.ec != std::errc{} || r.ptr != last || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<int> to_int(std::string_view text) {
  int value = 0;
  const auto* last = text.data() + text.size();
  const auto r = std::from_chars(text.data(), last, value);
  if (r.ec != std::errc{} || r.ptr != last) return std::nullopt;
  return value;
}

std::optional<bool> to_bool(std::string_view text) {
  if (text == "1" || text == "true" || text == "yes") return true;
  if (text == "0" || text == "false" || text == "no") return false;
  return std::nullopt;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    const auto at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

// Rebuilds the tool parameters with one more string member.
elevenlabs::json_object with_string_parameter(const elevenlabs::json_object& parameters,
                                              std::string_view name, std::string_view value) {
  std::string text = parameters.text();
  text.pop_back();  // the closing brace
  std::string member;
  elevenlabs::detail::json_writer w(member);
  w.begin_object().key(name).string(value).end_object();
  if (text.size() > 1) text += ',';
  text.append(member, 1, std::string::npos);
  auto parsed = elevenlabs::json_object::parse(text);
  return parsed ? *parsed : parameters;
}

// Applies one key=value of a CLI spec; returns an error text for a bad one.
std::optional<std::string> apply_option(agent_profile& p, std::string_view key,
                                        std::string_view value, bool& tool_args_given) {
  const auto bad = [&] { return "bad value for " + std::string(key) + ": " + std::string(value); };
  const auto set_int = [&](int& out) -> std::optional<std::string> {
    const auto v = to_int(value);
    if (!v || *v < 0) return bad();
    out = *v;
    return std::nullopt;
  };
  const auto set_double = [&](double& out) -> std::optional<std::string> {
    const auto v = to_double(value);
    if (!v) return bad();
    out = *v;
    return std::nullopt;
  };
  const auto set_bool = [&](bool& out) -> std::optional<std::string> {
    const auto v = to_bool(value);
    if (!v) return bad();
    out = *v;
    return std::nullopt;
  };
  const auto set_format = [&](codecs::audio_format& out) -> std::optional<std::string> {
    const auto f = format_named(value);
    if (!f) return bad();
    out = *f;
    return std::nullopt;
  };
  const auto greeting = [&]() -> tone_spec& {
    return p.greeting ? *p.greeting : p.greeting.emplace();
  };

  if (key == "in") return set_format(p.input);
  if (key == "out") return set_format(p.output);
  if (key == "tone") return set_double(greeting().frequency_hz);
  if (key == "ms") {
    if (auto e = set_int(greeting().duration_ms)) return e;
    if (p.greeting->duration_ms == 0) p.greeting.reset();
    return std::nullopt;
  }
  if (key == "text") {
    p.greeting_text = std::string(value);
    return std::nullopt;
  }
  if (key == "public") return set_bool(p.is_public);
  if (key == "require") {
    p.required_dynamic_variables.clear();
    for (auto name : split(value, '+')) {
      if (!name.empty()) p.required_dynamic_variables.emplace_back(name);
    }
    return std::nullopt;
  }
  if (key == "overrides") return set_bool(p.overrides_allowed);
  if (key == "chunk_ms") return set_int(p.chunk_ms);
  if (key == "burst_ms") return set_int(p.burst_ms);
  if (key == "speed") return set_double(p.speed);
  if (key == "stamp") return set_bool(p.stamp_audio);
  if (key == "vad_dbfs") return set_double(p.vad_threshold_dbfs);
  if (key == "silence_ms") return set_int(p.turn_silence_ms);
  if (key == "barge_in") return set_bool(p.barge_in);
  if (key == "barge_in_ms") return set_int(p.barge_in_ms);
  if (key == "reply_tone") return set_double(p.reply_tone.frequency_hz);
  if (key == "reply_ms") return set_int(p.reply_tone.duration_ms);
  if (key == "long_tone") return set_double(p.long_turn.frequency_hz);
  if (key == "long_ms") return set_int(p.long_turn.duration_ms);
  if (key == "interrupt_ms") return set_int(p.interrupt_after_ms);
  if (key == "stale") return set_int(p.stale_chunks);
  if (key == "tool") {
    p.tool_name = std::string(value);
    return std::nullopt;
  }
  if (key.substr(0, 4) == "arg.") {
    if (!tool_args_given) p.tool_parameters = elevenlabs::json_object{};
    tool_args_given = true;
    p.tool_parameters = with_string_parameter(p.tool_parameters, key.substr(4), value);
    return std::nullopt;
  }
  if (key == "code") return set_int(p.error_code);
  if (key == "type") {
    p.error_type = std::string(value);
    return std::nullopt;
  }
  if (key == "message") {
    p.error_message = std::string(value);
    return std::nullopt;
  }
  if (key == "flat") return set_bool(p.flat_error);
  if (key == "delay_ms") return set_int(p.action_delay_ms);
  return "unknown agent option " + std::string(key);
}

// Checks that keep a spec from producing a conversation that cannot run.
std::optional<std::string> validate(const agent_profile& p) {
  if (p.chunk_ms < 10) return std::string("chunk_ms must be at least 10");
  if (!(p.speed > 0.0)) return std::string("speed must be positive");
  if (p.window_ms <= 0 || p.window_ms > 1000) return std::string("window_ms must be 1..1000");
  if (p.error_code < 1000 || p.error_code > 4999) return std::string("code must be 1000..4999");
  return std::nullopt;
}

}  // namespace

std::string_view to_string(scenario_kind kind) {
  for (const auto& s : scenario_names) {
    if (s.kind == kind) return s.name;
  }
  return "unknown";
}

std::optional<scenario_kind> parse_scenario_kind(std::string_view name) {
  for (const auto& s : scenario_names) {
    if (s.name == name) return s.kind;
  }
  return std::nullopt;
}

agent_profile make_profile(std::string agent_id, scenario_kind scenario) {
  agent_profile p;
  p.agent_id = std::move(agent_id);
  p.scenario = scenario;
  p.tool_parameters = with_string_parameter(elevenlabs::json_object{}, "order_id", "42");
  if (scenario == scenario_kind::interrupt) {
    p.greeting.reset();
    p.reply_tone.duration_ms = 1000;
  }
  if (scenario == scenario_kind::transcript) {
    p.greeting_text = "Hi there! Thanks for calling the demo line. How can I help you today?";
  }
  return p;
}

std::optional<agent_profile> profile_from_agent_id(std::string_view agent_id) {
  const auto parts = split(agent_id, '.');
  if (parts.size() > 3) return std::nullopt;
  auto profile = profile_for_scenario_name(std::string(agent_id), parts[0]);
  if (!profile) return std::nullopt;
  if (parts.size() > 1) {
    const auto input = format_named(parts[1]);
    if (!input) return std::nullopt;
    profile->input = *input;
  }
  if (parts.size() > 2) {
    const auto output = format_named(parts[2]);
    if (!output) return std::nullopt;
    profile->output = *output;
  }
  return profile;
}

expected<agent_profile, std::string> parse_agent_spec(std::string_view spec) {
  const auto options = split(spec, ',');
  const auto head = options[0];
  const auto equals = head.find('=');
  if (equals == std::string_view::npos || equals == 0) {
    return unexpected{std::string("agent spec must start with <id>=<scenario>: ") +
                      std::string(spec)};
  }
  const auto id = head.substr(0, equals);
  auto profile = profile_from_agent_id(head.substr(equals + 1));
  if (!profile) {
    return unexpected{std::string("unknown scenario or audio format: ") +
                      std::string(head.substr(equals + 1))};
  }
  profile->agent_id = std::string(id);
  bool tool_args_given = false;
  for (std::size_t i = 1; i < options.size(); ++i) {
    const auto option = options[i];
    const auto at = option.find('=');
    if (at == std::string_view::npos) {
      return unexpected{"agent option needs key=value: " + std::string(option)};
    }
    if (auto error =
            apply_option(*profile, option.substr(0, at), option.substr(at + 1), tool_args_given)) {
      return unexpected{std::move(*error)};
    }
  }
  if (auto error = validate(*profile)) return unexpected{std::move(*error)};
  return std::move(*profile);
}

}  // namespace cb::fake_elevenlabs
