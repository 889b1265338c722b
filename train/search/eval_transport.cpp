// EvalTransport over LibTorch's c10d Gloo process group. See eval_transport.h.
//
// ProcessGroupGloo.hpp only declares the class when USE_C10D_GLOO is defined, and it includes
// the Gloo headers (Debian: libgloo-dev). train/CMakeLists.txt defines USE_C10D_GLOO and
// RT3_HAVE_GLOO=1 for this file when it finds them; without them this file still builds and the
// constructor throws.
#include "train/search/eval_transport.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#if RT3_HAVE_GLOO
#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace rt3::train {

#if RT3_HAVE_GLOO

namespace {

using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

constexpr int kTag = 0;                          // one tag: Gloo keeps per-pair, per-tag FIFO order
constexpr std::int64_t kShutdown = -1;           // length value that tells a worker to stop
constexpr std::int64_t kMaxText = std::int64_t{1} << 40;  // sanity bound on a received length

bool is_loopback(const std::string& addr) {
  return addr == "localhost" || addr == "::1" || addr.rfind("127.", 0) == 0;
}

// Milliseconds for a wait, at least 1 (0 means "the context default" to c10d).
Ms to_ms(double seconds) {
  double ms = seconds * 1000.0;
  if (!(ms >= 1.0)) ms = 1.0;
  if (ms > 1e12) ms = 1e12;  // ~30 years; keeps the chrono arithmetic far from overflow
  return Ms(static_cast<std::int64_t>(ms));
}

std::string seconds_text(double s) {
  std::ostringstream os;
  os << s << " s";
  return os.str();
}

Ms remaining(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now());
  return std::max(left, Ms(1));
}

}  // namespace

struct EvalTransport::Impl {
  TransportOptions opt;
  Ms timeout{};
  bool shut_down = false;  // rank 0: shutdown() sent; worker: shutdown received
  bool broken = false;     // an error happened; the protocol state is unknown
  // Every posted send/recv of the current operation. Each Work owns its tensor (its own copy of
  // the bytes) and Gloo's buffer. Cleared when an operation completes; after an error it is kept
  // until the process group is gone, so Gloo never touches freed memory if data moves late.
  // Declared before pg, so it is destroyed after it.
  std::vector<c10::intrusive_ptr<c10d::Work>> inflight;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;

  std::string who() const {
    return "EvalTransport rank " + std::to_string(opt.rank) + "/" + std::to_string(opt.world_size);
  }
  std::string master() const { return opt.master_addr + ":" + std::to_string(opt.master_port); }

  [[noreturn]] void fail(const std::string& what, const std::string& detail,
                         const std::string& hint) {
    broken = true;
    std::string msg = who() + ": " + what;
    std::string d = detail;
    while (!d.empty() && (d.back() == '.' || d.back() == '\n' || d.back() == ' ')) d.pop_back();
    if (!d.empty()) msg += ": " + d;
    if (!hint.empty()) msg += ". " + hint;
    throw std::runtime_error(msg);
  }

  // Runs f; turns any c10/Gloo/std exception into fail(what, ..., hint).
  template <class F>
  auto guarded(const std::string& what, const std::string& hint, F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (const c10::Error& e) {
      fail(what, e.what_without_backtrace(), hint);
    } catch (const std::exception& e) {
      fail(what, e.what(), hint);
    }
  }

  std::shared_ptr<::gloo::transport::Device> make_device() const {
    std::string ifname = opt.network_interface;
    if (ifname.empty()) {
      if (const char* env = std::getenv("GLOO_SOCKET_IFNAME"); env && *env) ifname = env;
    }
    if (!ifname.empty()) return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
    if (is_loopback(opt.master_addr))
      return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
    return c10d::ProcessGroupGloo::createDefaultDevice();
  }

  // Three steps, each bounded by timeout_s: connect to (rank 0: host) the TCP store; rank 0
  // waits until all ranks have checked in (so "a worker is missing" gets its own message and
  // does not run into Gloo's longer internal waits); then Gloo's full-mesh connect.
  void rendezvous() {
    const std::string hint =
        "Check that master_addr/master_port (" + master() + ") are rank 0's address and a free, "
        "reachable port, that all " + std::to_string(opt.world_size) +
        " ranks were started with the same world_size and distinct ranks, and that timeout_s (" +
        seconds_text(opt.timeout_s) + ") is long enough for all of them to start";
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(opt.master_port);
    so.isServer = opt.rank == 0;
    so.numWorkers = static_cast<std::size_t>(opt.world_size);
    so.waitWorkers = false;  // its wait gives up silently; the check-in below reports instead
    // c10d's socket connect counts whole seconds (below 1 s it gives up at once), so the store
    // gets at least 1 s; the waits after the connect use timeout_s exactly.
    so.timeout = std::max(timeout, Ms(1000));
    store = guarded(opt.rank == 0 ? "could not host the rendezvous store on port " +
                                        std::to_string(opt.master_port)
                                  : "could not join the rendezvous store at " + master(),
                    hint, [&] { return c10::make_intrusive<c10d::TCPStore>(opt.master_addr, so); });

    const std::string key = "rt3/eval_transport/checked_in";
    const auto deadline = Clock::now() + timeout;
    std::int64_t joined = guarded("rendezvous store check-in failed", hint,
                                  [&] { return store->add(key, 1); });
    if (opt.rank == 0) {
      while (joined < opt.world_size) {
        if (Clock::now() >= deadline)
          fail("rendezvous timed out",
               "only " + std::to_string(joined) + " of " + std::to_string(opt.world_size) +
                   " ranks joined within " + seconds_text(opt.timeout_s),
               hint);
        std::this_thread::sleep_for(Ms(10));
        joined = guarded("rendezvous store check-in failed", hint,
                         [&] { return store->add(key, 0); });
      }
      if (joined > opt.world_size)
        fail("rendezvous failed", std::to_string(joined) + " ranks joined for world_size " +
                                      std::to_string(opt.world_size),
             "Another group may be using the same master_port, or a rank was started twice");
    }

    auto po = c10d::ProcessGroupGloo::Options::create(remaining(deadline));
    po->threads = 1;  // send/recv run on Gloo's device thread; the pool is for collectives only
    const std::string net_hint =
        "Set TransportOptions::network_interface (or GLOO_SOCKET_IFNAME) on every rank to an "
        "interface the other ranks can reach; " + hint;
    po->devices.push_back(guarded("could not create the Gloo network device", net_hint,
                                  [&] { return make_device(); }));
    store->setTimeout(remaining(deadline));
    pg = guarded("Gloo rendezvous (connecting to every other rank) failed", net_hint, [&] {
      return c10::make_intrusive<c10d::ProcessGroupGloo>(store, opt.rank, opt.world_size, po);
    });
  }

  // Waits for w; throws via fail() on timeout, error or abort.
  void wait(c10::intrusive_ptr<c10d::Work>& w, Ms t, const std::string& what,
            const std::string& hint) {
    bool ok = false;
    try {
      ok = w->wait(t);
    } catch (const c10::Error& e) {
      fail(what, e.what_without_backtrace(), hint);
    } catch (const std::exception& e) {
      fail(what, e.what(), hint);
    }
    if (!ok) fail(what, "aborted", hint);
  }

  c10::intrusive_ptr<c10d::Work> post_send(at::Tensor t, int peer, const std::string& what) {
    std::vector<at::Tensor> v{std::move(t)};
    inflight.push_back(guarded(what, "", [&] { return pg->send(v, peer, kTag); }));
    return inflight.back();
  }
  c10::intrusive_ptr<c10d::Work> post_recv(at::Tensor t, int peer, const std::string& what) {
    std::vector<at::Tensor> v{std::move(t)};
    inflight.push_back(guarded(what, "", [&] { return pg->recv(v, peer, kTag); }));
    return inflight.back();
  }

  static at::Tensor length_tensor(std::int64_t n) {
    auto t = at::empty({1}, at::kLong);
    t.data_ptr<std::int64_t>()[0] = n;
    return t;
  }
  // A copy of s: the send must not depend on the caller's string staying alive after an error.
  static at::Tensor bytes_tensor(const std::string& s) {
    auto t = at::empty({static_cast<std::int64_t>(s.size())}, at::kByte);
    std::memcpy(t.data_ptr(), s.data(), s.size());
    return t;
  }

  std::int64_t checked_length(const at::Tensor& t, int peer) {
    std::int64_t n = t.data_ptr<std::int64_t>()[0];
    if (n < kShutdown || n > kMaxText)
      fail("protocol error", "rank " + std::to_string(peer) + " sent length " + std::to_string(n),
           "All ranks must run the same RT3 build");
    return n;
  }

  // Posts the sends of s to peer (length, then payload when non-empty); appends them to works.
  void post_text(const std::string& s, int peer, std::vector<c10::intrusive_ptr<c10d::Work>>& works,
                 const std::string& what) {
    works.push_back(post_send(length_tensor(static_cast<std::int64_t>(s.size())), peer, what));
    if (!s.empty()) works.push_back(post_send(bytes_tensor(s), peer, what));
  }

  // Receives a payload of n > 0 bytes from peer.
  std::string recv_payload(std::int64_t n, int peer, Ms t, const std::string& what,
                           const std::string& hint) {
    auto buf = at::empty({n}, at::kByte);
    auto w = post_recv(buf, peer, what);
    wait(w, t, what, hint);
    return std::string(static_cast<const char*>(buf.data_ptr()), static_cast<std::size_t>(n));
  }

  void require_usable(const char* method) {
    if (broken)
      throw std::runtime_error(who() + ": " + method +
                               "() after an earlier transport error; destroy this EvalTransport "
                               "and create a new one (all ranks must rendezvous again)");
  }
};

EvalTransport::EvalTransport(const TransportOptions& o) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.opt = o;
  if (o.world_size < 1 || o.rank < 0 || o.rank >= o.world_size)
    throw std::runtime_error("EvalTransport: rank " + std::to_string(o.rank) +
                             " is not in [0, world_size) with world_size " +
                             std::to_string(o.world_size));
  if (o.master_port < 1 || o.master_port > 65535)
    throw std::runtime_error("EvalTransport: master_port " + std::to_string(o.master_port) +
                             " is not in 1..65535");
  if (!(o.timeout_s > 0))
    throw std::runtime_error("EvalTransport: timeout_s must be > 0");
  if (o.master_addr.empty()) throw std::runtime_error("EvalTransport: master_addr is empty");
  m.timeout = to_ms(o.timeout_s);
  if (o.world_size == 1) return;  // nothing to connect to; exchange() only accepts no texts
  m.rendezvous();
}

EvalTransport::~EvalTransport() {
  if (!impl_) return;
  if (impl_->opt.rank == 0 && impl_->pg && !impl_->shut_down && !impl_->broken) {
    try {
      shutdown();
    } catch (...) {
      // Destructors must not throw; the workers' serve() fails when the connections close.
    }
  }
  try {
    // Process group first (closes the connections), then the store and the in-flight works.
    impl_.reset();
  } catch (...) {
  }
}

int EvalTransport::rank() const { return impl_->opt.rank; }
int EvalTransport::world_size() const { return impl_->opt.world_size; }
bool EvalTransport::available() { return true; }

std::vector<std::string> EvalTransport::exchange(const std::vector<std::string>& texts) {
  Impl& m = *impl_;
  if (m.opt.rank != 0) throw std::runtime_error(m.who() + ": exchange() is for rank 0 only");
  m.require_usable("exchange");
  if (m.shut_down) throw std::runtime_error(m.who() + ": exchange() after shutdown()");
  const int workers = m.opt.world_size - 1;
  if (texts.size() > static_cast<std::size_t>(workers))
    throw std::runtime_error(m.who() + ": exchange() got " + std::to_string(texts.size()) +
                             " texts for " + std::to_string(workers) + " workers");
  const int n = static_cast<int>(texts.size());
  std::vector<std::string> replies(texts.size());
  if (n == 0) return replies;
  const auto deadline = Clock::now() + m.timeout;
  const std::string hint = "Is the worker process still running (see its log)? Does timeout_s (" +
                           seconds_text(m.opt.timeout_s) + ") cover one evaluation?";

  // Post the reply-length receives first, then every request, so the workers run in parallel.
  std::vector<at::Tensor> lengths;
  std::vector<c10::intrusive_ptr<c10d::Work>> length_recvs, sends;
  for (int i = 0; i < n; ++i) {
    lengths.push_back(at::empty({1}, at::kLong));
    length_recvs.push_back(m.post_recv(lengths.back(), i + 1, "posting a receive"));
  }
  for (int i = 0; i < n; ++i) m.post_text(texts[i], i + 1, sends, "sending a request");
  for (auto& w : sends) m.wait(w, remaining(deadline), "sending a request to a worker", hint);
  for (int i = 0; i < n; ++i) {
    const int peer = i + 1;
    const std::string what = "waiting for the reply of rank " + std::to_string(peer);
    m.wait(length_recvs[i], remaining(deadline), what, hint);
    std::int64_t len = m.checked_length(lengths[i], peer);
    if (len < 0) m.fail("protocol error", "rank " + std::to_string(peer) + " sent length -1", "");
    if (len > 0) replies[i] = m.recv_payload(len, peer, remaining(deadline), what, hint);
  }
  m.inflight.clear();
  return replies;
}

void EvalTransport::shutdown() {
  Impl& m = *impl_;
  if (m.opt.rank != 0) throw std::runtime_error(m.who() + ": shutdown() is for rank 0 only");
  // Nothing to send without workers; after an error the protocol state is unknown, so the
  // workers instead learn it when this object is destroyed and the connections close.
  if (m.shut_down || !m.pg || m.broken) {
    m.shut_down = true;
    return;
  }
  m.shut_down = true;
  const auto deadline = Clock::now() + m.timeout;
  std::vector<c10::intrusive_ptr<c10d::Work>> sends;
  for (int peer = 1; peer < m.opt.world_size; ++peer)
    sends.push_back(m.post_send(Impl::length_tensor(kShutdown), peer, "sending shutdown"));
  for (std::size_t i = 0; i < sends.size(); ++i)
    m.wait(sends[i], remaining(deadline), "sending shutdown to rank " + std::to_string(i + 1),
           "Is that worker still running?");
  m.inflight.clear();
}

void EvalTransport::serve(const std::function<std::string(const std::string&)>& handler) {
  Impl& m = *impl_;
  if (m.opt.rank == 0) throw std::runtime_error(m.who() + ": serve() is for workers only");
  m.require_usable("serve");
  if (m.shut_down) return;
  const std::string hint = "Is rank 0 (the search) still running at " + m.master() +
                           "? timeout_s (" + seconds_text(m.opt.timeout_s) +
                           ") must cover its longest pause between exchanges";
  for (;;) {
    auto len_t = at::empty({1}, at::kLong);
    auto w = m.post_recv(len_t, 0, "posting a receive");
    m.wait(w, m.timeout, "waiting for a request from rank 0", hint);
    const std::int64_t len = m.checked_length(len_t, 0);
    if (len == kShutdown) {
      m.inflight.clear();
      m.shut_down = true;
      return;
    }
    std::string request;
    if (len > 0) request = m.recv_payload(len, 0, m.timeout, "receiving a request", hint);
    m.inflight.clear();
    std::string reply;
    try {
      reply = handler(request);
    } catch (...) {
      m.broken = true;  // rank 0 waits for a reply that will not come
      throw;
    }
    std::vector<c10::intrusive_ptr<c10d::Work>> sends;
    m.post_text(reply, 0, sends, "sending a reply");
    for (auto& s : sends) m.wait(s, m.timeout, "sending a reply to rank 0", hint);
    m.inflight.clear();
  }
}

#else  // !RT3_HAVE_GLOO

struct EvalTransport::Impl {
  TransportOptions opt;
};

EvalTransport::EvalTransport(const TransportOptions& o) : impl_(std::make_unique<Impl>()) {
  impl_->opt = o;
  throw std::runtime_error(
      "EvalTransport: this RT3 build has no Gloo support (the Gloo headers were not found when "
      "CMake configured it). Install libgloo-dev and reconfigure the build");
}
EvalTransport::~EvalTransport() = default;
int EvalTransport::rank() const { return impl_->opt.rank; }
int EvalTransport::world_size() const { return impl_->opt.world_size; }
bool EvalTransport::available() { return false; }
std::vector<std::string> EvalTransport::exchange(const std::vector<std::string>&) {
  throw std::runtime_error("EvalTransport: built without Gloo");
}
void EvalTransport::shutdown() {}
void EvalTransport::serve(const std::function<std::string(const std::string&)>&) {
  throw std::runtime_error("EvalTransport: built without Gloo");
}

#endif

}  // namespace rt3::train
