#include "cli/local_workers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace rt3::cli {

int free_local_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(std::string("cannot open a socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  close(fd);
  if (!ok) throw std::runtime_error(std::string("cannot find a free local port: ") + std::strerror(errno));
  return ntohs(addr.sin_port);
}

LocalWorkers::LocalWorkers(int count, int port, const std::string& bp_dir, int threads, const std::string& log_dir) {
  for (int rank = 1; rank <= count; ++rank) {
    const std::string log = log_dir + "/worker_" + std::to_string(rank) + ".log";
    std::vector<std::string> args = {"rt3", "search-worker", "--master", "127.0.0.1:" + std::to_string(port),
                                     "--rank", std::to_string(rank), "--world-size", std::to_string(count + 1),
                                     "--checkpoint", bp_dir, "--threads", std::to_string(threads)};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, "/proc/self/exe", &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      wait();
      throw std::runtime_error("cannot start search worker " + std::to_string(rank) + ": " + std::strerror(rc));
    }
    pids_.push_back(pid);
  }
}

std::vector<bool> LocalWorkers::wait() {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (size_t i = ok_.size(); i < pids_.size(); ++i) {
    int status = 0;
    pid_t r = 0;
    while ((r = waitpid(pids_[i], &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (r == 0) {  // still running after the grace period: the search is gone, so is its purpose
      kill(pids_[i], SIGKILL);
      waitpid(pids_[i], &status, 0);
      ok_.push_back(false);
      continue;
    }
    ok_.push_back(r == pids_[i] && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  return ok_;
}

void LocalWorkers::terminate() {
  for (size_t i = ok_.size(); i < pids_.size(); ++i) kill(pids_[i], SIGKILL);
  wait();
}

LocalWorkers::~LocalWorkers() { wait(); }

}  // namespace rt3::cli
