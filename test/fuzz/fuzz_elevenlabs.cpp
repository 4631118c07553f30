// Whatever parses, as a server event or as a client message, must serialize to text that parses
// back to an equal value (so the fake agent server and the bridge agree on every message either can
// read), and the in-place path that reuses a previous audio event must agree with a fresh parse.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/elevenlabs_client_messages.hpp"
#include "protocol/elevenlabs_json_object.hpp"
#include "protocol/elevenlabs_server_events.hpp"

namespace el = cb::elevenlabs;

namespace {

void check_server_event(std::string_view text) {
  const auto event = el::parse_server_event(text);

  el::server_event reused = el::audio_event{
      {1, 2, 3, 4, 5, 6, 7, 8}, 3, el::audio_alignment{{"a", "b"}, {0, 1.5}, {1.5, 2}}};
  std::string buffer(text);
  const auto in_place_error = el::parse_server_event_into(buffer, reused);
  if (event.has_value() == in_place_error.has_value()) __builtin_trap();
  if (!event) {
    if (*in_place_error != event.error()) __builtin_trap();
    return;
  }
  if (reused != *event) __builtin_trap();

  const std::string json = el::serialize(*event);
  const auto again = el::parse_server_event(json);
  if (!again || *again != *event) __builtin_trap();
}

void check_client_message(std::string_view text) {
  const auto message = el::parse_client_message(text);
  if (!message) return;
  const std::string json = el::serialize(*message);
  const auto again = el::parse_client_message(json);
  if (!again || *again != *message) __builtin_trap();
}

void check_operator_json(std::string_view text) {
  if (const auto object = el::json_object::parse(text)) {
    const auto again = el::json_object::parse(object->text());
    if (!again || *again != *object) __builtin_trap();
    el::conversation_initiation_client_data initiation;
    initiation.custom_llm_extra_body = *object;
    const auto parsed = el::parse_client_message(el::serialize(initiation));
    if (!parsed || *parsed != el::client_message{initiation}) __builtin_trap();
  }
  if (const auto variables = el::parse_dynamic_variables(text)) {
    el::conversation_initiation_client_data initiation;
    initiation.dynamic_variables = *variables;
    const auto parsed = el::parse_client_message(el::serialize(initiation));
    if (!parsed || *parsed != el::client_message{initiation}) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_server_event(text);
  check_client_message(text);
  check_operator_json(text);
  return 0;
}
