#include "actors/types.hpp"

#include <caf/make_message.hpp>
#include <caf/message.hpp>

#include "actors/ami_messages.hpp"
#include "actors/call_context.hpp"

namespace cb {

const char* to_string(bridge_errc e) {
  switch (e) {
    case bridge_errc::pool_exhausted:
      return "port pool exhausted";
    case bridge_errc::unknown_port:
      return "unknown port";
    case bridge_errc::duplicate_call:
      return "duplicate call id";
    case bridge_errc::unknown_call:
      return "unknown call";
    case bridge_errc::shutting_down:
      return "shutting down";
    case bridge_errc::malformed_frame:
      return "malformed AudioSocket frame";
    case bridge_errc::no_call_id:
      return "first AudioSocket frame was not the call id";
    case bridge_errc::ami_disabled:
      return "AMI is disabled (no ASTERISK_HOST)";
    case bridge_errc::ami_not_connected:
      return "AMI is not connected";
    case bridge_errc::ami_timeout:
      return "AMI action timed out";
    case bridge_errc::ami_action_failed:
      return "AMI action failed";
    case bridge_errc::ami_bad_action:
      return "AMI action refused";
    case bridge_errc::no_channel:
      return "the call's Asterisk channel is not known";
    case bridge_errc::bad_request:
      return "bad request";
    case bridge_errc::store_unavailable:
      return "call store database unavailable";
    case bridge_errc::out_of_descriptors:
      return "out of file descriptors";
  }
  return "unknown error";
}

caf::error make_error(bridge_errc e, std::string detail) {
  return caf::error{static_cast<std::uint8_t>(e), caf::atom("callbridge"),
                    caf::make_message(std::move(detail))};
}

std::string describe(const caf::error& e) {
  if (!e) return "none";
  if (e.category() == caf::atom("callbridge")) {
    std::string text = to_string(static_cast<bridge_errc>(e.code()));
    const auto& ctx = e.context();
    if (ctx.size() == 1 && ctx.match_element<std::string>(0)) {
      const auto& detail = ctx.get_as<std::string>(0);
      if (!detail.empty()) text += ": " + detail;
    }
    return text;
  }
  return caf::to_string(e);
}

const char* to_string(end_reason r) {
  switch (r) {
    case end_reason::caller_hung_up:
      return "caller hung up";
    case end_reason::agent_ended:
      return "agent ended the call";
    case end_reason::transferred:
      return "transferred";
    case end_reason::operator_ended:
      return "operator ended the call";
    case end_reason::agent_failed:
      return "agent service failed";
    case end_reason::protocol_error:
      return "AudioSocket protocol error";
    case end_reason::bridge_error:
      return "bridge error";
    case end_reason::shutdown:
      return "bridge shutdown";
  }
  return "unknown";
}

const char* to_string(context_source s) {
  switch (s) {
    case context_source::prepared:
      return "prepared";
    case context_source::port_binding:
      return "port binding";
    case context_source::default_agent:
      return "default agent";
  }
  return "unknown";
}

const char* to_string(ami_link_state s) {
  switch (s) {
    case ami_link_state::disabled:
      return "disabled";
    case ami_link_state::connecting:
      return "connecting";
    case ami_link_state::connected:
      return "connected";
    case ami_link_state::auth_failed:
      return "auth_failed";
    case ami_link_state::disconnected:
      return "disconnected";
  }
  return "unknown";
}

const char* to_string(call_phase s) {
  switch (s) {
    case call_phase::connecting:
      return "connecting";
    case call_phase::active:
      return "active";
    case call_phase::ending:
      return "ending";
  }
  return "unknown";
}

}  // namespace cb
