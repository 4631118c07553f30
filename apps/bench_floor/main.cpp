// The floor under bench_calls: what the operating system alone charges for the bridge's traffic on
// this machine. Each call is the same two loopback TCP connections as in bench_calls (caller <->
// bridge, bridge <-> agent) carrying messages of the same sizes at the same pace: every 20 ms a
// 323-byte AudioSocket frame each way, an 887-byte user_audio_chunk frame up and a 944-byte audio
// event frame down. But the bridge is a bare relay, one epoll thread that counts bytes and answers
// each whole message with the next hop's (no parsing, no audio, no actors), and the peers are two
// threads that only send on a 1 ms timer and drain. What it spends is the least any bridge on
// sockets can spend here; callbridge's figures above it are the price of its work and design.
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;

constexpr std::size_t audiosocket_frame_bytes = 3 + 320;  // header + 20 ms of 8 kHz slin
constexpr std::size_t uplink_frame_bytes = 887;    // ws header + {"user_audio_chunk":"<640 B>"}
constexpr std::size_t downlink_frame_bytes = 944;  // ws header + an audio event carrying 640 B
constexpr std::uint64_t slots = 20;                // 1 ms phase slots in the 20 ms frame period
constexpr std::size_t read_buffer_bytes = std::size_t{64} * 1024;
constexpr int max_events = 256;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

void set_nodelay(int fd) {
  const int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) fail("TCP_NODELAY");
}

class descriptor {
 public:
  descriptor() = default;
  explicit descriptor(int fd) : fd_(fd) {}
  descriptor(descriptor&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  descriptor& operator=(descriptor&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  descriptor(const descriptor&) = delete;
  descriptor& operator=(const descriptor&) = delete;
  ~descriptor() {
    if (fd_ >= 0) close(fd_);
  }
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_ = -1;
};

// One loopback TCP connection: the end that connected (a peer's) and the end accepted (the
// relay's).
struct connection {
  descriptor peer;
  descriptor relay;
};

class loopback_listener {
 public:
  loopback_listener() : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    if (fd_.get() < 0) fail("socket");
    address_.sin_family = AF_INET;
    address_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd_.get(), reinterpret_cast<const sockaddr*>(&address_), sizeof address_) != 0) {
      fail("bind");
    }
    if (listen(fd_.get(), SOMAXCONN) != 0) fail("listen");
    socklen_t length = sizeof address_;
    if (getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&address_), &length) != 0) {
      fail("getsockname");
    }
  }

  connection connect_one() {
    descriptor peer{socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
    if (peer.get() < 0) fail("socket");
    if (connect(peer.get(), reinterpret_cast<const sockaddr*>(&address_), sizeof address_) != 0 &&
        errno != EINPROGRESS) {
      fail("connect");
    }
    descriptor relay{accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK)};
    if (relay.get() < 0) fail("accept");
    set_nodelay(peer.get());
    set_nodelay(relay.get());
    return {std::move(peer), std::move(relay)};
  }

 private:
  descriptor fd_;
  sockaddr_in address_{};
};

struct call_connections {
  connection caller;  // the call simulator's AudioSocket connection
  connection agent;   // the bridge's connection to the agent
};

struct counters {
  std::atomic<std::uint64_t> relayed{0};       // whole messages the relay answered
  std::atomic<std::uint64_t> short_writes{0};  // sends the socket did not take whole
};

void send_message(int fd, const std::vector<char>& message, counters& stats) {
  const auto sent = send(fd, message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (sent != static_cast<ssize_t>(message.size())) ++stats.short_writes;
}

descriptor make_epoll() {
  descriptor epoll{epoll_create1(EPOLL_CLOEXEC)};
  if (epoll.get() < 0) fail("epoll_create1");
  return epoll;
}

void watch(int epoll, int fd, std::uint64_t tag) {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = tag;
  if (epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0) fail("epoll_ctl");
}

// The bridge reduced to its sockets: each whole caller frame is answered by an uplink message to
// the agent, each whole agent message by a frame to the caller.
void run_relay(std::vector<call_connections>& calls, const std::atomic<bool>& stop,
               counters& stats) {
  const auto epoll = make_epoll();
  // Tag: call index * 2, + 1 for the agent side.
  for (std::size_t i = 0; i < calls.size(); ++i) {
    watch(epoll.get(), calls[i].caller.relay.get(), i * 2);
    watch(epoll.get(), calls[i].agent.relay.get(), i * 2 + 1);
  }
  std::vector<std::size_t> pending_bytes(calls.size() * 2, 0);
  const std::vector<char> uplink(uplink_frame_bytes, 'u');
  const std::vector<char> to_caller(audiosocket_frame_bytes, 'c');
  std::vector<char> buffer(read_buffer_bytes);
  std::array<epoll_event, max_events> events{};
  while (!stop.load(std::memory_order_relaxed)) {
    const int n = epoll_wait(epoll.get(), events.data(), max_events, 100);
    for (int k = 0; k < n; ++k) {
      const auto tag = events[k].data.u64;
      auto& call = calls[tag / 2];
      const bool from_agent = (tag % 2) == 1;
      const int in = from_agent ? call.agent.relay.get() : call.caller.relay.get();
      const int out = from_agent ? call.caller.relay.get() : call.agent.relay.get();
      const std::size_t message_bytes = from_agent ? downlink_frame_bytes : audiosocket_frame_bytes;
      const auto received = recv(in, buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (received <= 0) continue;
      auto& pending = pending_bytes[tag];
      pending += static_cast<std::size_t>(received);
      while (pending >= message_bytes) {
        pending -= message_bytes;
        send_message(out, from_agent ? to_caller : uplink, stats);
        ++stats.relayed;
      }
    }
  }
}

// A peer: every 1 ms, the calls of that phase slot send one message; whatever arrives is drained.
void run_peer(std::vector<int> fds, std::size_t message_bytes, const std::atomic<bool>& stop,
              counters& stats) {
  const auto epoll = make_epoll();
  descriptor timer{timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)};
  if (timer.get() < 0) fail("timerfd_create");
  itimerspec period{};
  period.it_interval.tv_nsec = 1'000'000;
  period.it_value.tv_nsec = 1'000'000;
  if (timerfd_settime(timer.get(), 0, &period, nullptr) != 0) fail("timerfd_settime");
  constexpr std::uint64_t timer_tag = ~std::uint64_t{0};
  watch(epoll.get(), timer.get(), timer_tag);
  for (std::size_t i = 0; i < fds.size(); ++i)
    watch(epoll.get(), fds[i], i);
  const std::vector<char> message(message_bytes, 'p');
  std::vector<char> buffer(read_buffer_bytes);
  std::array<epoll_event, max_events> events{};
  std::uint64_t tick = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    const int n = epoll_wait(epoll.get(), events.data(), max_events, 100);
    for (int k = 0; k < n; ++k) {
      const auto tag = events[k].data.u64;
      if (tag != timer_tag) {
        while (recv(fds[tag], buffer.data(), buffer.size(), MSG_DONTWAIT) > 0) {
        }
        continue;
      }
      std::uint64_t expirations = 0;
      if (read(timer.get(), &expirations, sizeof expirations) != sizeof expirations) continue;
      // Slots missed while the thread was late are served now, like the real peers' pacing.
      for (std::uint64_t e = 0; e < expirations; ++e, ++tick) {
        for (std::size_t i = tick % slots; i < fds.size(); i += slots) {
          send_message(fds[i], message, stats);
        }
      }
    }
  }
}

double thread_cpu_seconds(std::thread& thread) {
  clockid_t clock{};
  if (pthread_getcpuclockid(thread.native_handle(), &clock) != 0) return 0;
  timespec now{};
  clock_gettime(clock, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

struct step_result {
  int calls = 0;
  double relay_cpu = 0;  // fraction of one core
  double peers_cpu = 0;
  double relayed_per_second = 0;
  std::uint64_t short_writes = 0;
};

step_result run_step(int calls, std::chrono::seconds hold) {
  loopback_listener listener;
  std::vector<call_connections> connections;
  connections.reserve(static_cast<std::size_t>(calls));
  std::vector<int> caller_fds;
  std::vector<int> agent_fds;
  for (int i = 0; i < calls; ++i) {
    auto caller = listener.connect_one();
    auto agent = listener.connect_one();
    caller_fds.push_back(caller.peer.get());
    agent_fds.push_back(agent.peer.get());
    connections.push_back({std::move(caller), std::move(agent)});
  }
  std::atomic<bool> stop{false};
  counters stats;
  std::thread relay{[&] { run_relay(connections, stop, stats); }};
  std::thread simulator{[&] { run_peer(caller_fds, audiosocket_frame_bytes, stop, stats); }};
  std::thread agent{[&] { run_peer(agent_fds, downlink_frame_bytes, stop, stats); }};
  std::this_thread::sleep_for(1s);  // every slot has turned over; buffers are warm
  const auto relay_start = thread_cpu_seconds(relay);
  const auto peers_start = thread_cpu_seconds(simulator) + thread_cpu_seconds(agent);
  const auto relayed_start = stats.relayed.load();
  const auto wall_start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(hold);
  const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - wall_start;
  step_result result;
  result.calls = calls;
  result.relay_cpu = (thread_cpu_seconds(relay) - relay_start) / wall.count();
  result.peers_cpu =
      (thread_cpu_seconds(simulator) + thread_cpu_seconds(agent) - peers_start) / wall.count();
  result.relayed_per_second =
      static_cast<double>(stats.relayed.load() - relayed_start) / wall.count();
  stop = true;
  relay.join();
  simulator.join();
  agent.join();
  result.short_writes = stats.short_writes.load();
  return result;
}

void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

std::vector<int> parse_calls(std::string_view list) {
  std::vector<int> calls;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto item = std::string(list.substr(0, comma));
    const int n = std::atoi(item.c_str());
    if (n <= 0) throw std::invalid_argument("--calls: not a positive number: " + item);
    calls.push_back(n);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
  }
  return calls;
}

void usage() {
  std::fputs(
      "usage: bench_floor [--calls A,B,...] [--hold SECONDS]\n"
      "  --calls A,B  concurrent calls per step (default 10,100,500,1000,2000)\n"
      "  --hold S     seconds each step is measured (default 10)\n"
      "Exits 1 when a step relays under half the messages it should (the traffic is not "
      "flowing).\n",
      stderr);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::vector<int> steps{10, 100, 500, 1000, 2000};
    std::chrono::seconds hold{10};
    for (int i = 1; i < argc; ++i) {
      const std::string_view arg = argv[i];
      if (arg == "--calls" && i + 1 < argc) {
        steps = parse_calls(argv[++i]);
      } else if (arg == "--hold" && i + 1 < argc) {
        hold = std::chrono::seconds{std::max(1, std::atoi(argv[++i]))};
      } else {
        usage();
        return 2;
      }
    }
    raise_descriptor_limit();
    fmt::print("machine: {} cores; each step measured for {} s after 1 s of warm-up\n\n",
               std::thread::hardware_concurrency(), hold.count());
    fmt::print(
        "| calls | relay CPU % | peers CPU % | total % | relay % per call | messages relayed/s | "
        "expected/s | short writes |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    int status = 0;
    for (const int calls : steps) {
      const auto r = run_step(calls, hold);
      const int expected = calls * 100;  // 50 messages a second each way per call
      fmt::print("| {} | {:.1f} | {:.1f} | {:.1f} | {:.3f} | {:.0f} | {} | {} |\n", r.calls,
                 r.relay_cpu * 100, r.peers_cpu * 100, (r.relay_cpu + r.peers_cpu) * 100,
                 r.relay_cpu * 100 / r.calls, r.relayed_per_second, expected, r.short_writes);
      std::fflush(stdout);
      // A saturated box relays somewhat less; under half means the traffic is not flowing.
      if (r.relayed_per_second < expected / 2.0) {
        std::fprintf(stderr, "bench_floor: %d calls relayed %.0f of %d messages a second\n", calls,
                     r.relayed_per_second, expected);
        status = 1;
      }
    }
    return status;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_floor: %s\n", e.what());
    return 1;
  }
}
