#pragma once
// Transport for spreading search evaluations over several processes or machines.
//
// Rank 0 is the search (the controller); ranks 1..world_size-1 are workers that evaluate
// requests. Texts (serialized requests and results) move over LibTorch's c10d Gloo process
// group; rank 0 hosts the TCP store used for the rendezvous. This header is torch-free (pimpl),
// so any file may include it cheaply; only eval_transport.cpp includes the c10d headers.
//
// Wire format, per message, in order on the (rank 0, worker) pair: an int64 length tensor of one
// element, then (only when length > 0) a uint8 payload tensor of that many bytes. A length of -1
// from rank 0 means "shut down".
//
// Errors: every failure (rendezvous, a timeout, a peer that went away, a Gloo error) becomes a
// std::runtime_error whose message says which rank, what failed and what to check. After such an
// error the transport is broken: every later exchange()/serve() throws at once, and the object
// should be destroyed (destroying it closes the connections, so the peers' waits fail too).
//
// Not thread-safe: call one method at a time on one object.
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace rt3::train {

struct TransportOptions {
  std::string master_addr = "127.0.0.1";
  int master_port = 29531;
  int rank = 0;             // 0 = the search (controller); 1..world_size-1 = workers
  int world_size = 1;
  double timeout_s = 1800;  // any single wait (rendezvous, a reply) longer than this throws
  // Network interface the Gloo device binds to (e.g. "eth0"). Empty: $GLOO_SOCKET_IFNAME if set,
  // else the loopback address when master_addr is a loopback address (127.x, localhost), else
  // the address the machine's hostname resolves to (LibTorch's createDefaultDevice()).
  std::string network_interface;
};

// Moves request/result texts between rank 0 (the search) and worker ranks over LibTorch's c10d
// Gloo process group (TCP store rendezvous hosted by rank 0).
class EvalTransport {
 public:
  // Rendezvous: blocks until all world_size ranks have joined (at most timeout_s). Throws
  // std::runtime_error with a message saying what failed and what to check (address/port, other
  // ranks started with the same world_size?), or when RT3 was built without Gloo support.
  explicit EvalTransport(const TransportOptions& o);
  // On rank 0 calls shutdown() if it was not called (errors are swallowed), then closes.
  ~EvalTransport();
  EvalTransport(const EvalTransport&) = delete;
  EvalTransport& operator=(const EvalTransport&) = delete;

  int rank() const;
  int world_size() const;

  // True when this build has Gloo support (libgloo-dev headers were found at configure time).
  static bool available();

  // Rank 0 only: sends texts[i] to worker i+1 (texts.size() <= world_size - 1; fewer is fine,
  // the other workers keep waiting) and returns the replies in the same order. The requests go
  // out together and the workers evaluate in parallel; every reply must arrive within timeout_s
  // of the call.
  std::vector<std::string> exchange(const std::vector<std::string>& texts);

  // Rank 0 only: makes every worker's serve() return. Idempotent; after it exchange() throws.
  // After a transport error it sends nothing and returns (the workers' serve() then throws when
  // this object is destroyed and the connections close).
  void shutdown();

  // Workers only: receive a text, reply handler(text), repeat until rank 0 shuts down; then
  // return normally. Waiting longer than timeout_s for the next request (or rank 0 going away)
  // throws std::runtime_error, so timeout_s must cover rank 0's longest pause between exchanges.
  // If handler throws, serve() lets the exception propagate unchanged and no reply is sent; the
  // transport is then broken and should be destroyed, after which rank 0's pending exchange()
  // fails (peer gone) instead of waiting for timeout_s. A handler that wants the search to go on
  // should catch its own errors and return them as a reply text.
  void serve(const std::function<std::string(const std::string&)>& handler);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rt3::train
