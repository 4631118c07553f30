#include "apps/callsim/call_report.hpp"

namespace cb::callsim {

const char* to_string(call_phase p) {
  switch (p) {
    case call_phase::waiting:
      return "waiting";
    case call_phase::connecting:
      return "connecting";
    case call_phase::connected:
      return "connected";
    case call_phase::ended:
      return "ended";
  }
  return "unknown";
}

const char* to_string(call_end e) {
  switch (e) {
    case call_end::none:
      return "running";
    case call_end::caller_hangup:
      return "caller_hangup";
    case call_end::max_time:
      return "max_time";
    case call_end::local_hangup:
      return "local_hangup";
    case call_end::server_hangup:
      return "server_hangup";
    case call_end::server_close:
      return "server_close";
    case call_end::connection_reset:
      return "connection_reset";
    case call_end::connect_failed:
      return "connect_failed";
    case call_end::protocol_violation:
      return "protocol_violation";
    case call_end::socket_error:
      return "socket_error";
  }
  return "unknown";
}

bool is_clean(call_end e) {
  switch (e) {
    case call_end::caller_hangup:
    case call_end::max_time:
    case call_end::local_hangup:
    case call_end::server_hangup:
    case call_end::server_close:
      return true;
    case call_end::none:
    case call_end::connection_reset:
    case call_end::connect_failed:
    case call_end::protocol_violation:
    case call_end::socket_error:
      return false;
  }
  return false;
}

}  // namespace cb::callsim
