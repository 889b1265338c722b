// Test tool: compares two printouts of tests/tools/bundle_outputs (the same bundle run on two
// machines). Token ids and labels must be equal; floats within
//   |other - ref| <= tol * (1 + |ref|)      (tol default 1e-4, the engine golden tests' bound,
//                                            tests/runtime/test_engine.cpp)
// because x86 (AVX2/AVX-512), NEON and SVE kernels sum in different orders and only agree to
// float32 rounding. Prints how many floats were bit-identical and the largest scaled difference,
// so a report can say which of the two it was.
//   compare_outputs REF.txt OTHER.txt [TOL]     exit 0: all within; 1: a mismatch (first 10 listed)
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Line {
  std::string key;  // "<variant> <input> <kind>"
  std::string kind;
  std::vector<std::string> values;
};

std::vector<Line> read_lines(const char* path) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "compare_outputs: cannot read %s\n", path);
    std::exit(2);
  }
  std::vector<Line> lines;
  for (std::string text; std::getline(in, text);) {
    std::istringstream s(text);
    std::string variant, input;
    Line l;
    if (!(s >> variant >> input >> l.kind)) {
      std::fprintf(stderr, "compare_outputs: %s:%zu: expected '<variant> <input> <kind> values...'\n", path,
                   lines.size() + 1);
      std::exit(2);
    }
    l.key = variant + " " + input + " " + l.kind;
    for (std::string v; s >> v;) l.values.push_back(v);
    lines.push_back(std::move(l));
  }
  return lines;
}

bool is_float_kind(const std::string& kind) { return kind == "logits" || kind == "probs"; }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: %s REF.txt OTHER.txt [TOL]\n", argv[0]);
    return 2;
  }
  const double tol = argc == 4 ? std::atof(argv[3]) : 1e-4;
  const auto ref = read_lines(argv[1]), other = read_lines(argv[2]);
  int bad = 0;
  auto fail = [&](const std::string& what) {
    if (++bad <= 10) std::printf("MISMATCH %s\n", what.c_str());
  };
  if (ref.empty()) fail(std::string(argv[1]) + " has no outputs");  // nothing compared is no pass
  if (ref.size() != other.size())
    fail("line count " + std::to_string(ref.size()) + " vs " + std::to_string(other.size()));
  size_t floats = 0, identical = 0, ints = 0;
  double worst = 0;
  std::string worst_at;
  for (size_t i = 0; i < ref.size() && i < other.size(); ++i) {
    const Line &a = ref[i], &b = other[i];
    if (a.key != b.key || a.values.size() != b.values.size()) {
      fail("line " + std::to_string(i + 1) + ": '" + a.key + "' (" + std::to_string(a.values.size()) + " values) vs '" +
           b.key + "' (" + std::to_string(b.values.size()) + " values)");
      continue;
    }
    for (size_t j = 0; j < a.values.size(); ++j) {
      const std::string at = a.key + "[" + std::to_string(j) + "]";
      if (!is_float_kind(a.kind)) {
        ++ints;
        if (a.values[j] != b.values[j]) fail(at + ": " + a.values[j] + " vs " + b.values[j]);
        continue;
      }
      ++floats;
      const double x = std::strtod(a.values[j].c_str(), nullptr), y = std::strtod(b.values[j].c_str(), nullptr);
      if (a.values[j] == b.values[j]) ++identical;
      const double scaled = std::fabs(y - x) / (1.0 + std::fabs(x));
      if (!(scaled <= tol)) {  // NaN fails too
        fail(at + ": " + a.values[j] + " vs " + b.values[j] + " (|diff|/(1+|ref|) = " + std::to_string(scaled) + ")");
      }
      if (scaled > worst || std::isnan(scaled)) worst = scaled, worst_at = at;
    }
  }
  std::printf("%zu floats: %zu bit-identical, max |diff|/(1+|ref|) %.3g%s%s (tol %.3g); %zu ids/labels%s\n", floats,
              identical, worst, worst_at.empty() ? "" : " at ", worst_at.c_str(), tol, ints,
              bad ? "" : ", all equal");
  if (bad) std::printf("compare_outputs: %d mismatches between %s and %s\n", bad, argv[1], argv[2]);
  return bad ? 1 : 0;
}
