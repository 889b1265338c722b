#include "cli/checked_stdout.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace rt3::cli {
namespace {

std::string lost_output_message(int err) {
  return std::string("writing the output to stdout failed") + (err ? std::string(": ") + std::strerror(err) : "") +
         " (disk full or output closed?)";
}

}  // namespace

void flush_stdout() {
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) throw std::runtime_error(lost_output_message(errno));
}

int finish_stdout(int rc, const std::string& who) {
  errno = 0;
  const bool lost = std::fflush(stdout) != 0 || std::ferror(stdout);
  const int flush_err = errno;
  errno = 0;
  const bool close_failed = std::fclose(stdout) != 0;
  const int close_err = errno;
  if (!lost && !close_failed) return rc;
  if (rc != 0) return rc;  // the command has reported its failure already: one error line
  std::fprintf(stderr, "%s: error: %s\n", who.c_str(), lost_output_message(lost ? flush_err : close_err).c_str());
  return 1;
}

std::string json_text(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
}

}  // namespace rt3::cli
