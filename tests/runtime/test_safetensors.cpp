// Tests of runtime/format: round trips through SafetensorsWriter and SafetensorsFile, the
// half/bfloat16 conversions, and one test per kind of corrupt file the loader must reject.

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "runtime/format/safetensors.h"

namespace rt3::format {
namespace {

namespace fs = std::filesystem;
using K = SafetensorsErrorKind;

// A file image from a raw header string and `data_len` filler bytes. `declared_len` overrides
// the length prefix to fake inconsistent files.
std::vector<uint8_t> make_file(const std::string& header, size_t data_len,
                               std::optional<uint64_t> declared_len = std::nullopt) {
  uint64_t n = declared_len.value_or(header.size());
  std::vector<uint8_t> out;
  for (int i = 0; i < 8; ++i, n >>= 8) out.push_back(static_cast<uint8_t>(n & 0xff));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data_len, 0xAB);
  return out;
}

void expect_rejected(const std::vector<uint8_t>& bytes, K kind, const LoadOptions& opt = {}) {
  try {
    SafetensorsFile::from_bytes(bytes, "test.safetensors", opt);
    ADD_FAILURE() << "accepted a file that should fail with " << error_kind_name(kind);
  } catch (const SafetensorsError& e) {
    EXPECT_EQ(e.kind(), kind) << "got " << error_kind_name(e.kind()) << ": " << e.what();
    EXPECT_NE(std::string(e.what()).find("test.safetensors"), std::string::npos) << e.what();
  }
}

void expect_rejected(const std::string& header, size_t data_len, K kind) {
  expect_rejected(make_file(header, data_len), kind);
}

template <typename F>
void expect_throws_kind(F&& f, K kind) {
  try {
    f();
    ADD_FAILURE() << "no exception, expected " << error_kind_name(kind);
  } catch (const SafetensorsError& e) {
    EXPECT_EQ(e.kind(), kind) << "got " << error_kind_name(e.kind()) << ": " << e.what();
  }
}

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "rt3_st_XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path_)) out.push_back(e.path().filename());
    return out;
  }

 private:
  fs::path path_;
};

const std::vector<DType> kAllDtypes = {
    DType::BOOL, DType::U8,  DType::I8,  DType::F8_E5M2, DType::F8_E4M3,
    DType::I16,  DType::U16, DType::F16, DType::BF16,    DType::I32,
    DType::U32,  DType::F32, DType::F64, DType::I64,     DType::U64,
};

// ---- dtype helpers -----------------------------------------------------------------------------

TEST(SafetensorsDtype, NamesRoundTripAndSizes) {
  for (DType t : kAllDtypes) {
    auto back = dtype_from_name(dtype_name(t));
    ASSERT_TRUE(back.has_value()) << dtype_name(t);
    EXPECT_EQ(*back, t);
  }
  EXPECT_EQ(dtype_size(DType::BOOL), 1u);
  EXPECT_EQ(dtype_size(DType::BF16), 2u);
  EXPECT_EQ(dtype_size(DType::F32), 4u);
  EXPECT_EQ(dtype_size(DType::I64), 8u);
  EXPECT_FALSE(dtype_from_name("f32"));  // case-sensitive, as in the spec
  EXPECT_FALSE(dtype_from_name("F4"));
  EXPECT_FALSE(dtype_from_name(""));
}

TEST(SafetensorsDtype, HalfKnownBitPatterns) {
  EXPECT_EQ(half_to_float(0x3C00), 1.0f);
  EXPECT_EQ(half_to_float(0xC000), -2.0f);
  EXPECT_EQ(half_to_float(0x7BFF), 65504.0f);                  // largest finite
  EXPECT_EQ(half_to_float(0x0400), std::ldexp(1.0f, -14));     // smallest normal
  EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0f, -24));     // smallest subnormal
  EXPECT_EQ(half_to_float(0x03FF), std::ldexp(1023.0f, -24));  // largest subnormal
  EXPECT_EQ(half_to_float(0x8001), -std::ldexp(1.0f, -24));
  EXPECT_EQ(half_to_float(0x3555), 0.333251953125f);
  EXPECT_EQ(half_to_float(0x0000), 0.0f);
  EXPECT_FALSE(std::signbit(half_to_float(0x0000)));
  EXPECT_TRUE(std::signbit(half_to_float(0x8000)));
  EXPECT_EQ(half_to_float(0x7C00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(half_to_float(0xFC00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(half_to_float(0x7E00)));
  EXPECT_TRUE(std::isnan(half_to_float(0x7C01)));  // signalling NaN must not become inf
  EXPECT_TRUE(std::isnan(half_to_float(0xFE00)));
}

// The compiler's own IEEE half type, where it has one: Arm's __fp16 (GCC before 13 has no
// _Float16 in C++ on aarch64, although it defines __FLT16_MAX__ there), else _Float16.
#if defined(__ARM_FP16_FORMAT_IEEE)
#define RT3_HOST_HALF __fp16
#elif defined(__FLT16_MAX__)
#define RT3_HOST_HALF _Float16
#endif

// Every one of the 65536 patterns against the textbook formula (and the compiler's own half
// type where it has one).
TEST(SafetensorsDtype, HalfAllPatternsMatchFormula) {
  for (uint32_t b = 0; b <= 0xFFFF; ++b) {
    const auto h = static_cast<uint16_t>(b);
    const int s = h >> 15, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    const float got = half_to_float(h);
    if (e == 0x1f) {
      EXPECT_TRUE(m ? std::isnan(got) : std::isinf(got)) << std::hex << b;
      continue;
    }
    const double mag = e == 0 ? std::ldexp(double(m), -24) : std::ldexp(1.0 + m / 1024.0, e - 15);
    const float want = static_cast<float>(s ? -mag : mag);
    ASSERT_EQ(got, want) << std::hex << b;
    ASSERT_EQ(std::signbit(got), s == 1) << std::hex << b;
#ifdef RT3_HOST_HALF
    RT3_HOST_HALF hf;
    std::memcpy(&hf, &h, 2);
    ASSERT_EQ(got, static_cast<float>(hf)) << std::hex << b;
#endif
  }
}

TEST(SafetensorsDtype, Bf16KnownBitPatterns) {
  EXPECT_EQ(bf16_to_float(0x3F80), 1.0f);
  EXPECT_EQ(bf16_to_float(0xC000), -2.0f);
  EXPECT_EQ(bf16_to_float(0x4049), 3.140625f);
  EXPECT_EQ(bf16_to_float(0x0001), std::ldexp(1.0f, -133));  // smallest subnormal
  EXPECT_EQ(bf16_to_float(0x0080), std::numeric_limits<float>::min());
  EXPECT_EQ(bf16_to_float(0x7F7F), std::ldexp(255.0f, 127 - 7));  // largest finite
  EXPECT_EQ(bf16_to_float(0x7F80), std::numeric_limits<float>::infinity());
  EXPECT_EQ(bf16_to_float(0xFF80), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(bf16_to_float(0x7FC0)));
  EXPECT_TRUE(std::isnan(bf16_to_float(0x7F81)));
  EXPECT_TRUE(std::signbit(bf16_to_float(0x8000)));
}

// ---- round trips --------------------------------------------------------------------------------

TEST(SafetensorsRoundTrip, AllDtypesKeepBytesShapesAndOrder) {
  SafetensorsWriter w;
  std::vector<std::vector<uint8_t>> payloads;
  for (size_t i = 0; i < kAllDtypes.size(); ++i) {
    const DType t = kAllDtypes[i];
    const std::vector<int64_t> shape = {2, static_cast<int64_t>(i % 3 + 1)};
    std::vector<uint8_t> bytes(static_cast<size_t>(shape[0] * shape[1]) * dtype_size(t));
    for (size_t j = 0; j < bytes.size(); ++j) bytes[j] = static_cast<uint8_t>(i * 31 + j * 7);
    if (t == DType::BOOL)
      for (auto& b : bytes) b &= 1;
    w.add(std::string("t.") + dtype_name(t), t, shape, bytes);
    payloads.push_back(bytes);
  }
  const auto image = w.to_bytes();
  const auto f = SafetensorsFile::from_bytes(image, "mem");
  ASSERT_EQ(f.tensors().size(), kAllDtypes.size());
  for (size_t i = 0; i < kAllDtypes.size(); ++i) {
    const TensorView& t = f.tensors()[i];  // data order == insertion order
    EXPECT_EQ(t.name, std::string("t.") + dtype_name(kAllDtypes[i]));
    EXPECT_EQ(t.dtype, kAllDtypes[i]);
    EXPECT_EQ(t.shape, (std::vector<int64_t>{2, static_cast<int64_t>(i % 3 + 1)}));
    ASSERT_EQ(t.nbytes, payloads[i].size());
    EXPECT_EQ(0, std::memcmp(t.data, payloads[i].data(), t.nbytes)) << t.name;
    EXPECT_EQ(f.find(t.name), &t);
  }
  EXPECT_TRUE(f.metadata().empty());
  // Writer pads the header so data starts at a multiple of 8; the loader puts it at 64.
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | image[static_cast<size_t>(i)];
  EXPECT_EQ((8 + n) % 8, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(f.tensors()[0].data) % 64, 0u);
}

TEST(SafetensorsRoundTrip, MetadataSurvives) {
  SafetensorsWriter w;
  w.set_metadata("format", "pt");
  w.set_metadata("rt3", R"({"version":"0.1.0","levels":[1,2]})");
  w.set_metadata("unicode", "caf\xC3\xA9 \xE2\x9C\x93");
  w.set_metadata("empty", "");
  w.set_metadata("format", "rt3");  // replaces
  w.add_f32("w", {2}, {1.5f, -2.5f});
  const auto f = SafetensorsFile::from_bytes(w.to_bytes(), "mem");
  const std::map<std::string, std::string> want = {{"format", "rt3"},
                                                   {"rt3", R"({"version":"0.1.0","levels":[1,2]})"},
                                                   {"unicode", "caf\xC3\xA9 \xE2\x9C\x93"},
                                                   {"empty", ""}};
  EXPECT_EQ(f.metadata(), want);
}

TEST(SafetensorsRoundTrip, EmptyTensorsAndScalars) {
  SafetensorsWriter w;
  w.add("empty_front", DType::F32, {0}, nullptr, 0);
  w.add_f32("scalar", {}, {42.0f});
  w.add("empty_mid", DType::I64, {3, 0, 5}, nullptr, 0);
  w.add_f32("vec", {3}, {1, 2, 3});
  w.add("empty_end", DType::BF16, {0, 7}, nullptr, 0);
  const auto f = SafetensorsFile::from_bytes(w.to_bytes(), "mem");
  ASSERT_EQ(f.tensors().size(), 5u);
  EXPECT_EQ(f.get("scalar").shape, std::vector<int64_t>{});
  EXPECT_EQ(f.get("scalar").numel(), 1u);
  EXPECT_EQ(*f.get_f32("scalar", {}), 42.0f);
  EXPECT_EQ(f.get("empty_mid").nbytes, 0u);
  EXPECT_EQ(f.get("empty_mid").numel(), 0u);
  EXPECT_EQ(f.get("empty_mid").shape, (std::vector<int64_t>{3, 0, 5}));
  EXPECT_TRUE(f.read_floats("empty_end", {0, 7}).empty());
  EXPECT_EQ(f.read_floats("vec", {3}), (std::vector<float>{1, 2, 3}));
}

TEST(SafetensorsRoundTrip, EmptyFileIsValid) {
  const auto image = SafetensorsWriter().to_bytes();
  const auto f = SafetensorsFile::from_bytes(image, "mem");
  EXPECT_TRUE(f.tensors().empty());
  EXPECT_TRUE(f.metadata().empty());
}

TEST(SafetensorsRoundTrip, WriteThenOpenFromDisk) {
  TempDir dir;
  const std::string path = (dir.path() / "model.safetensors").string();
  SafetensorsWriter w;
  w.set_metadata("k", "v");
  w.add_f32("a", {2, 2}, {1, 2, 3, 4});
  w.write(path);
  {
    const auto f = SafetensorsFile::open(path);
    EXPECT_EQ(f.source(), path);
    const float* a = f.get_f32("a", {2, 2});
    EXPECT_EQ(std::vector<float>(a, a + 4), (std::vector<float>{1, 2, 3, 4}));
    EXPECT_EQ(f.metadata().at("k"), "v");
  }
  // Overwrite atomically with new content; no temporary files left behind.
  SafetensorsWriter w2;
  w2.add_f32("b", {1}, {7});
  w2.write(path);
  const auto f2 = SafetensorsFile::open(path);
  EXPECT_EQ(f2.find("a"), nullptr);
  EXPECT_EQ(*f2.get_f32("b", {1}), 7.0f);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"model.safetensors"});
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                fs::perms::others_read);
}

TEST(SafetensorsRoundTrip, MovedFileKeepsViewsValid) {
  SafetensorsWriter w;
  w.add_f32("a", {3}, {1, 2, 3});
  auto f = SafetensorsFile::from_bytes(w.to_bytes(), "mem");
  const uint8_t* before = f.get("a").data;
  SafetensorsFile g = std::move(f);
  EXPECT_EQ(g.get("a").data, before);
  EXPECT_EQ(g.read_floats("a", {3}), (std::vector<float>{1, 2, 3}));
}

TEST(SafetensorsRoundTrip, HeaderPaddingAndWhitespaceAccepted) {
  // Hand-written header with leading/trailing whitespace and spaces padding to a multiple of 8.
  std::string h = R"( {"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}} )";
  h.append(13, ' ');
  const auto f = SafetensorsFile::from_bytes(make_file(h, 2), "mem");
  EXPECT_EQ(f.get("a").nbytes, 2u);
}

TEST(SafetensorsRoundTrip, SameKeyAtDifferentDepthsIsNotADuplicate) {
  const std::string h =
      R"({"__metadata__":{"a":"x","dtype":"y"},)"
      R"("a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
      R"("shape":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})";
  const auto f = SafetensorsFile::from_bytes(make_file(h, 2), "mem");
  EXPECT_EQ(f.tensors().size(), 2u);
  EXPECT_EQ(f.metadata().at("a"), "x");
}

// ---- accessors -----------------------------------------------------------------------------------

TEST(SafetensorsAccess, ConvertsF16AndBf16ToFloat) {
  SafetensorsWriter w;
  const std::vector<uint16_t> half = {0x3C00, 0xC000, 0x0001, 0x7C00};
  const std::vector<uint16_t> bf = {0x3F80, 0x4049, 0xFF80, 0x0000};
  w.add("h", DType::F16, {2, 2}, half.data(), 8);
  w.add("b", DType::BF16, {4}, bf.data(), 8);
  const auto f = SafetensorsFile::from_bytes(w.to_bytes(), "mem");
  const auto hv = f.read_floats("h", {2, 2});
  EXPECT_EQ(hv[0], 1.0f);
  EXPECT_EQ(hv[1], -2.0f);
  EXPECT_EQ(hv[2], std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::isinf(hv[3]));
  EXPECT_EQ(f.to_floats(f.get("b")), (std::vector<float>{1.0f, 3.140625f,
                                                         -std::numeric_limits<float>::infinity(),
                                                         0.0f}));
}

TEST(SafetensorsAccess, TypedAccessErrors) {
  SafetensorsWriter w;
  w.add("bytes", DType::U8, {3}, std::vector<uint8_t>{1, 2, 3});
  w.add_f32("odd", {1}, {5.0f});  // lands at data offset 3: not 4-byte aligned
  w.add("ints", DType::I32, {1}, std::vector<uint8_t>{0, 0, 0, 0});
  const auto f = SafetensorsFile::from_bytes(w.to_bytes(), "mem");
  expect_throws_kind([&] { f.get("nope"); }, K::kTensorNotFound);
  expect_throws_kind([&] { f.get_f32("nope", {1}); }, K::kTensorNotFound);
  EXPECT_EQ(f.find("nope"), nullptr);
  expect_throws_kind([&] { f.get_f32("ints", {1}); }, K::kWrongDtype);
  expect_throws_kind([&] { f.get_f32("odd", {2}); }, K::kWrongShape);
  expect_throws_kind([&] { f.get_f32("odd", {1}); }, K::kMisaligned);
  EXPECT_EQ(f.read_floats("odd", {1}), std::vector<float>{5.0f});  // copying works regardless
  expect_throws_kind([&] { f.read_floats("ints", {1}); }, K::kWrongDtype);
  expect_throws_kind([&] { f.read_floats("odd", {}); }, K::kWrongShape);
}

// ---- corrupt files: one test per kind ------------------------------------------------------------

const char* const kOk = R"("dtype":"F32","shape":[2],"data_offsets":[0,8])";

TEST(SafetensorsCorrupt, FileShorterThan8Bytes) {
  expect_rejected(std::vector<uint8_t>{1, 0, 0, 0, 0}, K::kFileTooSmall);
  expect_rejected(std::vector<uint8_t>{}, K::kFileTooSmall);
}

TEST(SafetensorsCorrupt, HeaderLengthBelowTwo) {
  expect_rejected(make_file("{", 0), K::kHeaderTooSmall);
  expect_rejected(make_file("", 0), K::kHeaderTooSmall);
}

TEST(SafetensorsCorrupt, HeaderLengthLargerThanFile) {
  expect_rejected(make_file("{}", 0, 100), K::kHeaderPastEnd);
  expect_rejected(make_file("{}", 0, 3), K::kHeaderPastEnd);
}

TEST(SafetensorsCorrupt, HeaderLengthOverCap) {
  // Checked before the file size, so a huge claimed length is rejected without reading on.
  expect_rejected(make_file("{}", 0, (100ull << 20) + 1), K::kHeaderTooLarge);
  expect_rejected(make_file("{}", 0, UINT64_MAX), K::kHeaderTooLarge);
  LoadOptions small;
  small.max_header_bytes = 16;
  const std::string h = std::string("{") + std::string(20, ' ') + "}";
  expect_rejected(make_file(h, 0), K::kHeaderTooLarge, small);
  EXPECT_NO_THROW(SafetensorsFile::from_bytes(make_file(h, 0), "mem"));  // default cap is fine
}

TEST(SafetensorsCorrupt, HeaderNotJson) {
  expect_rejected("{not json}", 0, K::kHeaderNotJson);
  expect_rejected(std::string(R"({"a":{)") + kOk + "}", 8, K::kHeaderNotJson);    // truncated
  expect_rejected(std::string("{}\0\0\0\0\0\0", 8), 0, K::kHeaderNotJson);        // NUL padding
  expect_rejected(std::string("{}\0{\"x\":1}", 10), 0, K::kHeaderNotJson);          // hidden tail
  expect_rejected("{} // c", 0, K::kHeaderNotJson);                                 // comment
  expect_rejected("{}{}", 0, K::kHeaderNotJson);                                    // trailing
  expect_rejected("\xEF\xBB\xBF{}", 0, K::kHeaderNotJson);                          // BOM
  expect_rejected("{\"\xFF\":{}}", 0, K::kHeaderNotJson);                           // bad UTF-8
  expect_rejected(R"({"a":{"dtype":"F32","shape":[1e400],"data_offsets":[0,0]}})", 0,
                  K::kHeaderNotJson);  // number out of double range
}

TEST(SafetensorsCorrupt, HeaderJsonNotAnObject) {
  expect_rejected("[1, 2]", 0, K::kHeaderNotObject);
  expect_rejected("\"str\"", 0, K::kHeaderNotObject);
  expect_rejected("42", 0, K::kHeaderNotObject);
  expect_rejected("null", 0, K::kHeaderNotObject);
}

TEST(SafetensorsCorrupt, HeaderNestedTooDeep) {
  expect_rejected(R"({"a":{"dtype":"F32","shape":[[2]],"data_offsets":[0,8]}})", 8,
                  K::kHeaderTooDeep);
  // A long "[[[[..." is stopped at the fourth level instead of building a deep DOM.
  expect_rejected("{\"a\":" + std::string(100000, '[') + "}", 0, K::kHeaderTooDeep);
}

TEST(SafetensorsCorrupt, UnknownDtype) {
  expect_rejected(R"({"a":{"dtype":"F17","shape":[2],"data_offsets":[0,8]}})", 8,
                  K::kUnknownDtype);
  expect_rejected(R"({"a":{"dtype":"f32","shape":[2],"data_offsets":[0,8]}})", 8,
                  K::kUnknownDtype);
}

TEST(SafetensorsCorrupt, NegativeOrNonIntegerShape) {
  expect_rejected(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8, K::kBadShape);
  expect_rejected(R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", 8, K::kBadShape);
  expect_rejected(R"({"a":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}})", 8, K::kBadShape);
  expect_rejected(R"({"a":{"dtype":"F32","shape":[true],"data_offsets":[0,8]}})", 8, K::kBadShape);
  expect_rejected(  // 2^63 does not fit the int64 shape type
      R"({"a":{"dtype":"U8","shape":[9223372036854775808],"data_offsets":[0,8]}})", 8,
      K::kBadShape);
}

TEST(SafetensorsCorrupt, ShapeTimesDtypeSizeOverflows) {
  // 2^62 * 8 = 2^65 elements.
  expect_rejected(R"({"a":{"dtype":"U8","shape":[4611686018427387904,8],"data_offsets":[0,8]}})",
                  8, K::kSizeOverflow);
  // 2^62 elements fit, but 2^62 * 4 bytes does not.
  expect_rejected(R"({"a":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,8]}})",
                  8, K::kSizeOverflow);
}

TEST(SafetensorsCorrupt, ByteSpanMismatchWithShape) {
  expect_rejected(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4,
                  K::kByteSpanMismatch);
  expect_rejected(R"({"a":{"dtype":"F16","shape":[2,2],"data_offsets":[0,16]}})", 16,
                  K::kByteSpanMismatch);
}

TEST(SafetensorsCorrupt, DataOffsetsOutOfBounds) {
  expect_rejected(std::string(R"({"a":{)") + kOk + "}}", 4, K::kOffsetOutOfBounds);
  expect_rejected(
      R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551614,18446744073709551615]}})",
      1, K::kOffsetOutOfBounds);
}

TEST(SafetensorsCorrupt, OverlappingTensors) {
  expect_rejected(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                  R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                  12, K::kOverlap);
  // Two names for the same bytes.
  expect_rejected(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                  R"("b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                  8, K::kOverlap);
}

TEST(SafetensorsCorrupt, HoleBetweenTensors) {
  expect_rejected(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                  R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                  12, K::kHole);
  // Hole before the first tensor.
  expect_rejected(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8, K::kHole);
}

TEST(SafetensorsCorrupt, TrailingBytesAfterData) {
  expect_rejected(std::string(R"({"a":{)") + kOk + "}}", 9, K::kTrailingBytes);
  expect_rejected("{}", 1, K::kTrailingBytes);
}

TEST(SafetensorsCorrupt, DuplicateTensorNames) {
  expect_rejected(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                  R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                  8, K::kDuplicateName);
  // A repeated field inside one entry is just as ambiguous.
  expect_rejected(R"({"a":{"dtype":"F32","dtype":"I32","shape":[1],"data_offsets":[0,4]}})", 4,
                  K::kDuplicateName);
  expect_rejected(R"({"__metadata__":{"k":"1","k":"2"}})", 0, K::kDuplicateName);
}

TEST(SafetensorsCorrupt, MetadataValueNotString) {
  expect_rejected(R"({"__metadata__":{"k":1}})", 0, K::kMetadataNotString);
  expect_rejected(R"({"__metadata__":{"k":{"nested":"x"}}})", 0, K::kMetadataNotString);
  expect_rejected(R"({"__metadata__":{"k":null}})", 0, K::kMetadataNotString);
}

TEST(SafetensorsCorrupt, MetadataNotObject) {
  expect_rejected(R"({"__metadata__":"x"})", 0, K::kMetadataNotObject);
  expect_rejected(R"({"__metadata__":["a"]})", 0, K::kMetadataNotObject);
}

TEST(SafetensorsCorrupt, MissingField) {
  expect_rejected(R"({"a":{"dtype":"F32","shape":[2]}})", 8, K::kMissingField);
  expect_rejected(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", 8, K::kMissingField);
  expect_rejected(R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", 8, K::kMissingField);
}

TEST(SafetensorsCorrupt, UnknownField) {
  expect_rejected(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", 8,
                  K::kUnknownField);
}

TEST(SafetensorsCorrupt, FieldOfWrongJsonType) {
  expect_rejected(R"({"a":{"dtype":1,"shape":[2],"data_offsets":[0,8]}})", 8, K::kBadFieldType);
  expect_rejected(R"({"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})", 8, K::kBadFieldType);
  expect_rejected(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}})", 8,
                  K::kBadFieldType);
  expect_rejected(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":{"0":8}}})", 8,
                  K::kBadFieldType);
}

TEST(SafetensorsCorrupt, EntryNotObject) {
  expect_rejected(R"({"a":[0,8]})", 8, K::kEntryNotObject);
  expect_rejected(R"({"a":"F32"})", 8, K::kEntryNotObject);
}

TEST(SafetensorsCorrupt, NegativeOrNonIntegerOffsets) {
  expect_rejected(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[-4,0]}})", 0,
                  K::kBadOffsets);
  expect_rejected(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8.0]}})", 8,
                  K::kBadOffsets);
  expect_rejected(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,"8"]}})", 8,
                  K::kBadOffsets);
}

TEST(SafetensorsCorrupt, BeginGreaterThanEnd) {
  expect_rejected(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", 8,
                  K::kOffsetsReversed);
}

TEST(SafetensorsCorrupt, EmptyTensorName) {
  expect_rejected(R"({"":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8, K::kEmptyName);
}

TEST(SafetensorsCorrupt, OpenMissingFileOrDirectory) {
  TempDir dir;
  expect_throws_kind([&] { SafetensorsFile::open((dir.path() / "nope").string()); }, K::kIo);
  expect_throws_kind([&] { SafetensorsFile::open(dir.path().string()); }, K::kIo);
}

TEST(SafetensorsCorrupt, OpenChecksLikeFromBytes) {
  TempDir dir;
  const std::string path = (dir.path() / "bad.safetensors").string();
  SafetensorsWriter w;
  w.add_f32("a", {1}, {1.0f});
  auto bytes = w.to_bytes();
  bytes.push_back(0);  // one trailing byte
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
  expect_throws_kind([&] { SafetensorsFile::open(path); }, K::kTrailingBytes);
  std::ofstream(path, std::ios::binary | std::ios::trunc).write("abc", 3);
  expect_throws_kind([&] { SafetensorsFile::open(path); }, K::kFileTooSmall);
}

// ---- writer errors ---------------------------------------------------------------------------------

TEST(SafetensorsWriter, RejectsBadInput) {
  SafetensorsWriter w;
  w.add_f32("a", {1}, {1.0f});
  expect_throws_kind([&] { w.add_f32("a", {1}, {2.0f}); }, K::kDuplicateName);
  expect_throws_kind([&] { w.add_f32("b", {3}, {1.0f, 2.0f}); }, K::kByteSpanMismatch);
  expect_throws_kind([&] { w.add("c", DType::F16, {2}, std::vector<uint8_t>(3)); },
                     K::kByteSpanMismatch);
  expect_throws_kind([&] { w.add_f32("", {1}, {1.0f}); }, K::kEmptyName);
  expect_throws_kind([&] { w.add_f32("__metadata__", {1}, {1.0f}); }, K::kInvalidArgument);
  expect_throws_kind([&] { w.add_f32("bad\xFF", {1}, {1.0f}); }, K::kInvalidArgument);
  expect_throws_kind([&] { w.add_f32("neg", {-1}, {}); }, K::kBadShape);
  expect_throws_kind([&] { w.add("big", DType::U8, {INT64_MAX, 4}, nullptr, 0); },
                     K::kSizeOverflow);
  expect_throws_kind([&] { w.set_metadata("k", "\xC3"); }, K::kInvalidArgument);
  EXPECT_EQ(w.tensor_count(), 1u);  // failed adds change nothing
  EXPECT_NO_THROW(SafetensorsFile::from_bytes(w.to_bytes(), "mem"));
}

TEST(SafetensorsWriter, UnwritableTargetFailsCleanly) {
  TempDir dir;
  // Parent "directory" is a regular file: works even when the tests run as root.
  const fs::path not_a_dir = dir.path() / "file";
  std::ofstream(not_a_dir).put('x');
  SafetensorsWriter w;
  w.add_f32("a", {1}, {1.0f});
  const std::string target = (not_a_dir / "out.safetensors").string();
  expect_throws_kind([&] { w.write(target); }, K::kIo);
  EXPECT_FALSE(fs::exists(target));
  // Missing parent directory.
  expect_throws_kind([&] { w.write((dir.path() / "no/such/dir/x.safetensors").string()); },
                     K::kIo);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"file"});
}

TEST(SafetensorsWriter, ReadOnlyDirectoryFailsCleanly) {
  TempDir dir;
  const fs::path ro = dir.path() / "ro";
  fs::create_directory(ro);
  fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
  if (::access(ro.c_str(), W_OK) == 0) GTEST_SKIP() << "running with CAP_DAC_OVERRIDE (root)";
  SafetensorsWriter w;
  w.add_f32("a", {1}, {1.0f});
  const std::string target = (ro / "out.safetensors").string();
  expect_throws_kind([&] { w.write(target); }, K::kIo);
  EXPECT_FALSE(fs::exists(target));
  EXPECT_TRUE(fs::is_empty(ro));
}

TEST(SafetensorsWriter, FailedRenameRemovesTemporaryFile) {
  TempDir dir;
  // The target is an existing non-empty directory, so rename() fails after the data is
  // written: the temporary file must not be left behind.
  const fs::path target = dir.path() / "out.safetensors";
  fs::create_directory(target);
  std::ofstream(target / "keep").put('x');
  SafetensorsWriter w;
  w.add_f32("a", {1}, {1.0f});
  expect_throws_kind([&] { w.write(target.string()); }, K::kIo);
  EXPECT_TRUE(fs::is_directory(target));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"out.safetensors"});
}

// A write that fails half way (here: file size limit, EFBIG) must not leave the partial
// temporary file or anything at the target. Runs in a child process because it changes the
// process-wide RLIMIT_FSIZE and SIGXFSZ disposition.
TEST(SafetensorsWriter, FailureMidWriteLeavesNothing) {
  TempDir dir;
  const std::string target = (dir.path() / "big.safetensors").string();
  SafetensorsWriter w;
  w.add("a", DType::U8, {1 << 16}, std::vector<uint8_t>(1 << 16, 7));
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit lim{4096, 4096};
    ::setrlimit(RLIMIT_FSIZE, &lim);
    int code = 1;
    try {
      w.write(target);
    } catch (const SafetensorsError& e) {
      code = e.kind() == K::kIo ? 0 : 2;
    } catch (...) {
      code = 3;
    }
    ::_exit(code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: write succeeded, 2: wrong kind, 3: other exception";
  EXPECT_FALSE(fs::exists(target));
  EXPECT_TRUE(dir.entries().empty());
}

TEST(SafetensorsWriter, ErrorMessagesNameTheFileAndProblem) {
  try {
    SafetensorsFile::from_bytes(make_file("{}", 3), "model/x.safetensors");
    FAIL();
  } catch (const SafetensorsError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("model/x.safetensors"), std::string::npos) << msg;
    EXPECT_NE(msg.find("3 bytes after the last tensor"), std::string::npos) << msg;
    EXPECT_NE(msg.find("TrailingBytes"), std::string::npos) << msg;
    EXPECT_EQ(e.source(), "model/x.safetensors");
  }
}

}  // namespace
}  // namespace rt3::format
