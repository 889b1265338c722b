#include "cli/json_child.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace rt3::cli {

JsonChild::JsonChild(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& stderr_log)
    : log_(stderr_log) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]), close(in[1]);
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  std::vector<std::string> envs;
  for (char** e = environ; *e; ++e) envs.emplace_back(*e);
  envs.insert(envs.end(), env.begin(), env.end());
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : envs) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, stderr_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int rc = posix_spawnp(&pid_, cargv[0], &fa, nullptr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  if (rc != 0) {
    close(in[1]), close(out[0]);
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  to_ = fdopen(in[1], "w");
  from_ = fdopen(out[0], "r");
  if (!to_ || !from_) throw std::runtime_error("fdopen failed for the pipes to " + argv[0]);
}

JsonChild::~JsonChild() {
  if (to_) fclose(to_);
  if (from_) fclose(from_);
  if (pid_ <= 0) return;
  int status = 0;
  for (int i = 0; i < 500; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
}

std::string JsonChild::died_message() const {
  std::ifstream f(log_);
  std::stringstream s;
  s << f.rdbuf();
  std::string text = s.str();
  if (text.size() > 2000) text = "..." + text.substr(text.size() - 2000);
  return text.empty() ? "(no output on stderr)" : text;
}

nlohmann::json JsonChild::call(const nlohmann::json& request) {
  const std::string line = request.dump() + "\n";
  if (std::fwrite(line.data(), 1, line.size(), to_) != line.size() || std::fflush(to_) != 0)
    throw std::runtime_error("the child process is gone: " + died_message());
  std::string reply;
  char buf[65536];
  while (std::fgets(buf, sizeof buf, from_)) {
    reply += buf;
    if (!reply.empty() && reply.back() == '\n') break;
  }
  if (reply.empty()) throw std::runtime_error("the child process closed its output: " + died_message());
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(reply);
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error("the child process replied with no JSON: " + reply.substr(0, 200));
  }
  if (j.is_object() && j.contains("error")) throw std::runtime_error(j["error"].get<std::string>());
  return j;
}

}  // namespace rt3::cli
