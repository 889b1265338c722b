#pragma once
// The one exception type of runtime/format. Every rejection has its own kind so callers and
// tests can tell "header too large" from "tensors overlap" without parsing messages.

#include <stdexcept>
#include <string>

namespace rt3::format {

enum class SafetensorsErrorKind {
  kIo,                // cannot open / read / write / rename / not a regular file
  kFileTooSmall,      // fewer than 8 bytes: no room for the header length
  kHeaderTooSmall,    // header length < 2 (not even "{}")
  kHeaderTooLarge,    // header length above LoadOptions::max_header_bytes
  kHeaderPastEnd,     // header length larger than the bytes after the 8-byte prefix
  kHeaderNotJson,     // not valid UTF-8 JSON (includes a BOM, comments, trailing garbage)
  kHeaderNotObject,   // valid JSON but the top level is not an object
  kHeaderTooDeep,     // nesting deeper than any valid header needs
  kDuplicateName,     // a key appears twice in one JSON object (tensor name or field)
  kEmptyName,         // tensor name ""
  kMetadataNotObject, // "__metadata__" is not an object
  kMetadataNotString, // a "__metadata__" value is not a string
  kEntryNotObject,    // a tensor entry is not an object
  kMissingField,      // dtype, shape or data_offsets missing
  kUnknownField,      // a tensor entry has a field other than those three
  kBadFieldType,      // dtype not a string, shape not an array, data_offsets not an array of 2
  kUnknownDtype,      // dtype string not in the spec's list
  kBadShape,          // a shape entry is negative, not an integer, or above INT64_MAX
  kSizeOverflow,      // element count or byte count does not fit in 64 bits
  kBadOffsets,        // a data_offsets entry is negative or not an integer
  kOffsetsReversed,   // data_offsets begin > end
  kByteSpanMismatch,  // end - begin != element count * dtype size
  kOffsetOutOfBounds, // end beyond the data buffer
  kOverlap,           // two tensors share bytes
  kHole,              // bytes between tensors (or before the first) that no tensor owns
  kTrailingBytes,     // bytes after the last tensor
  kTensorNotFound,    // get() of a name that is not in the file
  kWrongDtype,        // typed accessor asked for a dtype the tensor does not have
  kWrongShape,        // typed accessor asked for a shape the tensor does not have
  kMisaligned,        // a typed pointer was requested for data not aligned to its dtype
  kInvalidArgument,   // writer: reserved name, invalid UTF-8, bad shape given by the caller
};

// Stable identifier of a kind, e.g. "HeaderTooLarge" (used in messages and docs).
const char* error_kind_name(SafetensorsErrorKind kind);

class SafetensorsError : public std::runtime_error {
 public:
  // source: the file path (or the name given to from_bytes); detail: what is wrong.
  SafetensorsError(SafetensorsErrorKind kind, const std::string& source, const std::string& detail);

  SafetensorsErrorKind kind() const noexcept { return kind_; }
  const std::string& source() const noexcept { return source_; }

 private:
  SafetensorsErrorKind kind_;
  std::string source_;
};

}  // namespace rt3::format
