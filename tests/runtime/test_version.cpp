#include <gtest/gtest.h>

#include <string>

#include "rt3/version.h"

// The bundle writer stamps this string; it must be a dotted triple so readers can compare it.
TEST(Version, IsDottedTriple) {
  const std::string v = rt3::version_string();
  int dots = 0;
  for (char c : v) {
    if (c == '.') ++dots;
    else EXPECT_TRUE(c >= '0' && c <= '9') << v;
  }
  EXPECT_EQ(dots, 2) << v;
}
