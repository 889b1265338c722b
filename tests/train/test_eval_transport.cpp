// EvalTransport: rank 0 and workers as threads of this process, over loopback.
#include "train/search/eval_transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace rt3::train {
namespace {

using Handler = std::function<std::string(const std::string&)>;
using Clock = std::chrono::steady_clock;

// A port that was free a moment ago (bind port 0, read it back, close).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("bind/getsockname failed");
  }
  int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

TransportOptions options(int port, int rank, int world, double timeout_s = 20) {
  TransportOptions o;
  o.master_addr = "127.0.0.1";
  o.master_port = port;
  o.rank = rank;
  o.world_size = world;
  o.timeout_s = timeout_s;
  return o;
}

std::string handler_fn(const std::string& s) {
  if (s == "give-empty") return "";
  std::string r = "len=" + std::to_string(s.size()) + ";";
  r.append(s.rbegin(), s.rend());  // reversed copy: a reply as big as the request
  return r;
}

// A worker thread: rendezvous, serve(handler) until shutdown, record what happened.
struct Worker {
  std::thread thread;
  std::exception_ptr error;
  std::atomic<int> served{0};
  std::atomic<bool> returned{false};

  // delay_ms: start after rank 0's store is listening (c10d retries a refused connect only
  // after ~1 s, which matters in the tests with short timeouts).
  void start(TransportOptions o, Handler h = handler_fn, int delay_ms = 100) {
    thread = std::thread([this, o, h, delay_ms] {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      try {
        EvalTransport t(o);
        EXPECT_EQ(t.rank(), o.rank);
        EXPECT_EQ(t.world_size(), o.world_size);
        t.serve([&](const std::string& s) {
          ++served;
          return h(s);
        });
        returned = true;
      } catch (...) {
        error = std::current_exception();
      }
    });
  }
  void join() {
    if (thread.joinable()) thread.join();
  }
  ~Worker() { join(); }  // a test that failed early still waits (bounded by the worker's timeout)
  std::string error_text() const {
    if (!error) return "";
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      return e.what();
    } catch (...) {
      return "non-std exception";
    }
  }
};

class EvalTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!EvalTransport::available()) GTEST_SKIP() << "built without Gloo (libgloo-dev)";
  }
};

TEST_F(EvalTransportTest, TwoRanksRoundTripsIncludingEmptyAndLarge) {
  const int port = free_port();
  Worker w;
  w.start(options(port, 1, 2));
  {
    EvalTransport master(options(port, 0, 2));
    EXPECT_EQ(master.rank(), 0);
    EXPECT_EQ(master.world_size(), 2);
    std::string big(3 * 1024 * 1024 + 7, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131 + 7) & 0xff);
    const std::vector<std::string> requests = {"hello", "", big, "give-empty",
                                               "x", std::string("a\0b", 3)};
    for (const auto& r : requests) {
      auto replies = master.exchange({r});
      ASSERT_EQ(replies.size(), 1u);
      EXPECT_EQ(replies[0], handler_fn(r)) << "request of " << r.size() << " bytes";
    }
    EXPECT_TRUE(master.exchange({}).empty());
    EXPECT_THROW(master.exchange({"a", "b"}), std::runtime_error);  // 2 texts, 1 worker
    EXPECT_EQ(master.exchange({"still fine"})[0], handler_fn("still fine"));
    EXPECT_THROW(master.serve(handler_fn), std::runtime_error);  // serve() is for workers
  }  // destructor sends shutdown
  w.join();
  EXPECT_EQ(w.error_text(), "");
  EXPECT_TRUE(w.returned);
  EXPECT_EQ(w.served, 7);
}

TEST_F(EvalTransportTest, ThreeRanksAndFewerTextsThanWorkers) {
  const int port = free_port();
  Worker w1, w2;
  w1.start(options(port, 1, 3), [](const std::string& s) { return "w1:" + s; });
  w2.start(options(port, 2, 3), [](const std::string& s) { return "w2:" + s; });
  {
    EvalTransport master(options(port, 0, 3));
    for (int round = 0; round < 3; ++round) {
      auto r = master.exchange({"a" + std::to_string(round), "b" + std::to_string(round)});
      ASSERT_EQ(r.size(), 2u);
      EXPECT_EQ(r[0], "w1:a" + std::to_string(round));
      EXPECT_EQ(r[1], "w2:b" + std::to_string(round));
    }
    auto one = master.exchange({"only"});  // worker 2 keeps waiting
    ASSERT_EQ(one.size(), 1u);
    EXPECT_EQ(one[0], "w1:only");
    auto both = master.exchange({"", std::string(100000, 'z')});
    ASSERT_EQ(both.size(), 2u);
    EXPECT_EQ(both[0], "w1:");
    EXPECT_EQ(both[1], "w2:" + std::string(100000, 'z'));
    EXPECT_THROW(master.exchange({"1", "2", "3"}), std::runtime_error);
    master.shutdown();
    master.shutdown();  // idempotent
    EXPECT_THROW(master.exchange({"late"}), std::runtime_error);
  }
  w1.join();
  w2.join();
  EXPECT_EQ(w1.error_text(), "");
  EXPECT_EQ(w2.error_text(), "");
  EXPECT_TRUE(w1.returned);
  EXPECT_TRUE(w2.returned);
  EXPECT_EQ(w1.served, 5);
  EXPECT_EQ(w2.served, 4);
}

TEST_F(EvalTransportTest, ShutdownMakesServeReturnWithoutAnyRequest) {
  const int port = free_port();
  Worker w1, w2;
  w1.start(options(port, 1, 3));
  w2.start(options(port, 2, 3));
  EvalTransport master(options(port, 0, 3));
  master.shutdown();
  w1.join();
  w2.join();
  EXPECT_EQ(w1.error_text(), "");
  EXPECT_EQ(w2.error_text(), "");
  EXPECT_TRUE(w1.returned);
  EXPECT_TRUE(w2.returned);
  EXPECT_EQ(w1.served + w2.served, 0);
}

// A rendezvous that must fail: its error message and the seconds it took to fail.
std::pair<std::string, double> failed_rendezvous(const TransportOptions& o) {
  const auto t0 = Clock::now();
  std::string msg;
  try {
    EvalTransport t(o);
    ADD_FAILURE() << "rendezvous of rank " << o.rank << "/" << o.world_size << " succeeded";
  } catch (const std::runtime_error& e) {
    msg = e.what();
  }
  return {msg, std::chrono::duration<double>(Clock::now() - t0).count()};
}

TEST_F(EvalTransportTest, WorkerWithoutMasterThrowsWithinTimeout) {
  const int port = free_port();
  const auto [msg, s] = failed_rendezvous(options(port, 1, 2, /*timeout_s=*/2));
  EXPECT_LT(s, 6.0);
  EXPECT_NE(msg.find("rank 1/2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << msg;
}

TEST_F(EvalTransportTest, MasterWithoutWorkersThrowsWithinTimeout) {
  const int port = free_port();
  Worker w;  // rank 1 of 3 joins; rank 2 never starts
  w.start(options(port, 1, 3, 2), handler_fn, 200);
  const auto [msg, s] = failed_rendezvous(options(port, 0, 3, /*timeout_s=*/1.5));
  EXPECT_GE(s, 1.4);
  EXPECT_LT(s, 3.0);
  EXPECT_NE(msg.find("only 2 of 3 ranks joined"), std::string::npos) << msg;
  w.join();  // its Gloo rendezvous fails too: rank 0 went away
  EXPECT_NE(w.error_text(), "");
  EXPECT_FALSE(w.returned);
}

TEST_F(EvalTransportTest, HandlerExceptionPropagatesAndMasterFailsInsteadOfHanging) {
  const int port = free_port();
  Worker w;
  w.start(options(port, 1, 2, 5), [](const std::string& s) -> std::string {
    if (s == "boom") throw std::invalid_argument("handler failed on purpose");
    return handler_fn(s);
  });
  EvalTransport master(options(port, 0, 2, 5));
  EXPECT_EQ(master.exchange({"ok"})[0], handler_fn("ok"));
  const auto t0 = Clock::now();
  EXPECT_THROW(master.exchange({"boom"}), std::runtime_error);
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_LT(s, 6.0);
  EXPECT_THROW(master.exchange({"ok"}), std::runtime_error);  // broken from now on
  w.join();
  EXPECT_EQ(w.error_text(), "handler failed on purpose");  // propagated unchanged
  EXPECT_FALSE(w.returned);
}

TEST_F(EvalTransportTest, SlowReplyTimesOutAndWorkerFailsWhenMasterGoesAway) {
  const int port = free_port();
  std::atomic<bool> master_gone{false};
  Worker w;
  w.start(
      options(port, 1, 2, 5),
      [&](const std::string& s) {  // replies only after rank 0 gave up and went away
        for (int i = 0; i < 500 && !master_gone; ++i)
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return s;
      },
      200);
  {
    EvalTransport master(options(port, 0, 2, /*timeout_s=*/1.5));
    const auto t0 = Clock::now();
    std::string msg;
    try {
      master.exchange({"slow"});
      ADD_FAILURE() << "a reply slower than timeout_s did not throw";
    } catch (const std::runtime_error& e) {
      msg = e.what();
    }
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    EXPECT_GE(s, 1.4);
    EXPECT_LT(s, 2.5);
    EXPECT_NE(msg.find("waiting for the reply of rank 1"), std::string::npos) << msg;
  }  // broken: no shutdown is sent, the connections just close
  master_gone = true;
  w.join();
  EXPECT_NE(w.error_text().find("rank 1/2"), std::string::npos) << w.error_text();
  EXPECT_FALSE(w.returned);
}

TEST(EvalTransportOptions, RejectsBadOptions) {
  EXPECT_THROW(EvalTransport(options(29531, 2, 2)), std::runtime_error);
  EXPECT_THROW(EvalTransport(options(29531, 0, 0)), std::runtime_error);
  EXPECT_THROW(EvalTransport(options(0, 0, 2)), std::runtime_error);
  EXPECT_THROW(EvalTransport(options(29531, 0, 2, 0)), std::runtime_error);
  if (EvalTransport::available()) {
    EvalTransport alone(options(29531, 0, 1));  // no workers: nothing to connect to
    EXPECT_TRUE(alone.exchange({}).empty());
    EXPECT_THROW(alone.exchange({"x"}), std::runtime_error);
    alone.shutdown();
  }
}

}  // namespace
}  // namespace rt3::train
