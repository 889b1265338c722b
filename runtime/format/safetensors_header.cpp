#include "runtime/format/safetensors_header.h"

#include <algorithm>
#include <limits>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "runtime/format/safetensors_error.h"

namespace rt3::format {

namespace {

using json = nlohmann::json;
using K = SafetensorsErrorKind;

// A valid header has containers at depth 0 (root), 1 (entries, __metadata__) and 2 (shape,
// data_offsets). Stopping deeper nesting early also keeps a hostile "[[[[..." header from
// building a huge DOM before we reject it.
constexpr int kMaxContainerDepth = 2;

// Names come from untrusted files: quote them and keep messages bounded.
std::string quoted(const std::string& s) {
  constexpr size_t kMax = 80;
  if (s.size() <= kMax) return "'" + s + "'";
  return "'" + s.substr(0, kMax) + "...'";
}

[[noreturn]] void fail(K kind, const std::string& source, const std::string& detail) {
  throw SafetensorsError(kind, source, detail);
}

// nlohmann::json keeps the last of two equal keys without a word, which would let a file show
// different tensors to different readers. The parser callback sees every key, so we track the
// keys of each open object (indexed by depth) and reject a repeat.
json parse_json_strict(std::string_view text, const std::string& source) {
  if (text.size() >= 3 && static_cast<uint8_t>(text[0]) == 0xEF &&
      static_cast<uint8_t>(text[1]) == 0xBB && static_cast<uint8_t>(text[2]) == 0xBF)
    fail(K::kHeaderNotJson, source, "header starts with a UTF-8 byte order mark");
  // nlohmann's lexer stops at a NUL byte as if the input ended there, which would let bytes
  // after it go unread. A raw NUL is never valid JSON (in strings it must be \u0000).
  if (text.find('\0') != std::string_view::npos)
    fail(K::kHeaderNotJson, source, "header contains a NUL byte");

  std::vector<std::set<std::string>> keys_by_depth;
  auto callback = [&](int depth, json::parse_event_t event, json& parsed) -> bool {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (depth > kMaxContainerDepth)
          fail(K::kHeaderTooDeep, source,
               "header JSON nests deeper than " + std::to_string(kMaxContainerDepth + 1) +
                   " levels");
        if (event == json::parse_event_t::object_start) {
          // Keys of this object arrive at depth + 1.
          const size_t key_depth = static_cast<size_t>(depth) + 1;
          if (keys_by_depth.size() <= key_depth) keys_by_depth.resize(key_depth + 1);
          keys_by_depth[key_depth].clear();
        }
        break;
      case json::parse_event_t::key: {
        const auto& key = parsed.get_ref<const std::string&>();
        auto& seen = keys_by_depth.at(static_cast<size_t>(depth));
        if (!seen.insert(key).second)
          fail(K::kDuplicateName, source,
               (depth == 1 ? "duplicate tensor name " : "duplicate key ") + quoted(key));
        break;
      }
      default:
        break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/true,
                       /*ignore_comments=*/false);
  } catch (const json::exception& e) {
    fail(K::kHeaderNotJson, source, std::string("header is not valid JSON: ") + e.what());
  }
}

// Reads a JSON integer that must be >= 0 and fit in int64 (shape) or uint64 (offsets).
std::optional<uint64_t> non_negative_integer(const json& v, uint64_t max) {
  if (!v.is_number_integer()) return std::nullopt;  // floats, strings, bools, null
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u > max) return std::nullopt;
    return u;
  }
  const auto i = v.get<int64_t>();
  if (i < 0) return std::nullopt;
  return static_cast<uint64_t>(i);
}

std::map<std::string, std::string> parse_metadata(const json& v, const std::string& source) {
  if (!v.is_object())
    fail(K::kMetadataNotObject, source,
         std::string("__metadata__ must be an object, got ") + v.type_name());
  std::map<std::string, std::string> out;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it.value().is_string())
      fail(K::kMetadataNotString, source,
           "__metadata__ value of " + quoted(it.key()) + " must be a string, got " +
               it.value().type_name());
    out.emplace(it.key(), it.value().get<std::string>());
  }
  return out;
}

HeaderEntry parse_entry(const std::string& name, const json& v, uint64_t data_len,
                        const std::string& source) {
  const std::string where = "tensor " + quoted(name);
  if (!v.is_object())
    fail(K::kEntryNotObject, source, where + " must be an object, got " + v.type_name());
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string& f = it.key();
    if (f != "dtype" && f != "shape" && f != "data_offsets")
      fail(K::kUnknownField, source, where + " has unknown field " + quoted(f));
  }
  for (const char* f : {"dtype", "shape", "data_offsets"})
    if (!v.contains(f)) fail(K::kMissingField, source, where + " has no \"" + f + "\" field");

  HeaderEntry e;
  e.name = name;

  const json& dtype = v["dtype"];
  if (!dtype.is_string())
    fail(K::kBadFieldType, source, where + ": dtype must be a string");
  const auto dt = dtype_from_name(dtype.get_ref<const std::string&>());
  if (!dt)
    fail(K::kUnknownDtype, source,
         where + ": unknown dtype " + quoted(dtype.get_ref<const std::string&>()));
  e.dtype = *dt;

  const json& shape = v["shape"];
  if (!shape.is_array()) fail(K::kBadFieldType, source, where + ": shape must be an array");
  e.shape.reserve(shape.size());
  for (const json& d : shape) {
    const auto dim = non_negative_integer(d, static_cast<uint64_t>(INT64_MAX));
    if (!dim)
      fail(K::kBadShape, source,
           where + ": shape entries must be integers in [0, 2^63), got " + d.dump());
    e.shape.push_back(static_cast<int64_t>(*dim));
  }

  const json& offsets = v["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2)
    fail(K::kBadFieldType, source, where + ": data_offsets must be an array [begin, end]");
  const auto begin = non_negative_integer(offsets[0], UINT64_MAX);
  const auto end = non_negative_integer(offsets[1], UINT64_MAX);
  if (!begin || !end)
    fail(K::kBadOffsets, source,
         where + ": data_offsets must be non-negative integers, got " + offsets.dump());
  e.begin = *begin;
  e.end = *end;

  const auto nbytes = checked_nbytes(e.shape, e.dtype);
  if (!nbytes)
    fail(K::kSizeOverflow, source,
         where + ": element count x dtype size of shape " + shape.dump() + " overflows 64 bits");
  if (e.begin > e.end)
    fail(K::kOffsetsReversed, source,
         where + ": data_offsets begin " + std::to_string(e.begin) + " > end " +
             std::to_string(e.end));
  if (e.end - e.begin != *nbytes)
    fail(K::kByteSpanMismatch, source,
         where + ": data_offsets span " + std::to_string(e.end - e.begin) +
             " bytes but shape " + shape.dump() + " of " + dtype_name(e.dtype) + " needs " +
             std::to_string(*nbytes));
  if (e.end > data_len)
    fail(K::kOffsetOutOfBounds, source,
         where + ": data_offsets end " + std::to_string(e.end) + " is past the data buffer (" +
             std::to_string(data_len) + " bytes)");
  return e;
}

// Tensors sorted by begin must tile [0, data_len) exactly: every data byte belongs to exactly
// one tensor, so no bytes can hide in the file and no two names alias the same memory.
void check_coverage(const std::vector<HeaderEntry>& sorted, uint64_t data_len,
                    const std::string& source) {
  uint64_t cursor = 0;
  const HeaderEntry* prev = nullptr;
  for (const auto& e : sorted) {
    if (e.begin < cursor)
      fail(K::kOverlap, source,
           "tensor " + quoted(e.name) + " [" + std::to_string(e.begin) + ", " +
               std::to_string(e.end) + ") overlaps tensor " + quoted(prev->name) +
               " ending at " + std::to_string(cursor));
    if (e.begin > cursor)
      fail(K::kHole, source,
           "bytes [" + std::to_string(cursor) + ", " + std::to_string(e.begin) +
               ") of the data buffer belong to no tensor (before " + quoted(e.name) + ")");
    cursor = e.end;
    prev = &e;
  }
  if (cursor != data_len)
    fail(K::kTrailingBytes, source,
         std::to_string(data_len - cursor) + " bytes after the last tensor (data buffer is " +
             std::to_string(data_len) + " bytes, tensors end at " + std::to_string(cursor) + ")");
}

}  // namespace

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::optional<uint64_t> checked_nbytes(const std::vector<int64_t>& shape, DType dtype) {
  for (int64_t d : shape)
    if (d == 0) return 0;
  uint64_t n = 1;
  for (int64_t d : shape)
    if (d < 0 || __builtin_mul_overflow(n, static_cast<uint64_t>(d), &n)) return std::nullopt;
  if (__builtin_mul_overflow(n, static_cast<uint64_t>(dtype_size(dtype)), &n))
    return std::nullopt;
  return n;
}

uint64_t check_header_length(uint64_t header_len, uint64_t total_size, uint64_t max_header_bytes,
                             const std::string& source) {
  if (header_len < 2)
    fail(K::kHeaderTooSmall, source,
         "header length " + std::to_string(header_len) + " is below the minimum of 2 (\"{}\")");
  if (header_len > max_header_bytes)
    fail(K::kHeaderTooLarge, source,
         "header length " + std::to_string(header_len) + " exceeds the cap of " +
             std::to_string(max_header_bytes) + " bytes");
  if (header_len > total_size - 8)  // caller guarantees total_size >= 8
    fail(K::kHeaderPastEnd, source,
         "header length " + std::to_string(header_len) + " is larger than the " +
             std::to_string(total_size - 8) + " bytes after the length prefix");
  return header_len;
}

ParsedHeader parse_header(std::string_view text, uint64_t data_len, const std::string& source) {
  const json root = parse_json_strict(text, source);
  if (!root.is_object())
    fail(K::kHeaderNotObject, source,
         std::string("header must be a JSON object, got ") + root.type_name());

  ParsedHeader out;
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (it.key() == "__metadata__") {
      out.metadata = parse_metadata(it.value(), source);
      continue;
    }
    if (it.key().empty()) fail(K::kEmptyName, source, "a tensor has an empty name");
    out.tensors.push_back(parse_entry(it.key(), it.value(), data_len, source));
  }
  // Name as the last key makes the order total, so equal zero-size spans sort deterministically.
  std::sort(out.tensors.begin(), out.tensors.end(), [](const HeaderEntry& a, const HeaderEntry& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  check_coverage(out.tensors, data_len, source);
  return out;
}

}  // namespace rt3::format
