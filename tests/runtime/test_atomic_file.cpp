// format::write_file_atomic, the one writer of small outputs: whole file or nothing, no leftovers.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "runtime/format/atomic_file.h"
#include "tests/common/test_util.h"

namespace {

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

size_t files_in(const std::string& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

TEST(AtomicFile, WritesAndReplacesWholeFilesWithoutLeftovers) {
  rt3::test_util::TempDir tmp("rt3_atomic");
  const std::string path = tmp.file("out.json");
  rt3::format::write_file_atomic(path, "{\"a\": 1}\n");
  EXPECT_EQ(read_all(path), "{\"a\": 1}\n");
  std::string big(3 << 20, 'x');
  big[12345] = '\0';  // binary-safe
  rt3::format::write_file_atomic(path, big);
  EXPECT_EQ(read_all(path), big);
  rt3::format::write_file_atomic(path, "");
  EXPECT_EQ(read_all(path), "");
  EXPECT_EQ(files_in(tmp.path()), 1u);  // no temporary file left next to it
}

TEST(AtomicFile, FailsWithTheCauseAndLeavesTheTargetAlone) {
  rt3::test_util::TempDir tmp("rt3_atomic");
  try {
    rt3::format::write_file_atomic(tmp.file("missing_dir/out.json"), "x");
    FAIL() << "writing into a missing directory succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing_dir/out.json"), std::string::npos) << e.what();
  }
  // A directory in the way of the target: the rename fails, the directory and its content stay,
  // and the temporary file is removed.
  const std::string dir = tmp.file("taken");
  std::filesystem::create_directories(dir + "/inner");
  EXPECT_THROW(rt3::format::write_file_atomic(dir, "x"), std::runtime_error);
  EXPECT_TRUE(std::filesystem::is_directory(dir + "/inner"));
  EXPECT_EQ(files_in(tmp.path()), 1u);
}

}  // namespace
