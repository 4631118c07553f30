// The stop of an lws service thread (ws_client, http_server): other threads hand the thread work
// through a command queue guarded by `mtx` and wake it with lws_cancel_service, the one lws call
// that is safe off the service thread. Stopping is the last such command.
#pragma once

#include <libwebsockets.h>

#include <mutex>
#include <utility>

namespace cb {

// Impl has: std::thread thread; std::mutex mtx; bool accepting; lws_context* context;
// std::vector<command> pending; command::what of type op with a value op::stop. Queues the stop
// (once: later posts are refused) and joins the thread.
template <class Impl>
void stop_service_thread(Impl& impl) {
  if (!impl.thread.joinable()) return;
  {
    const std::lock_guard<std::mutex> guard{impl.mtx};
    if (impl.accepting) {
      impl.accepting = false;
      typename Impl::command cmd;
      cmd.what = Impl::op::stop;
      impl.pending.push_back(std::move(cmd));
      lws_cancel_service(impl.context);
    }
  }
  impl.thread.join();
}

}  // namespace cb
