#include "runtime/format/safetensors_error.h"

namespace rt3::format {

const char* error_kind_name(SafetensorsErrorKind kind) {
  using K = SafetensorsErrorKind;
  switch (kind) {
    case K::kIo: return "Io";
    case K::kFileTooSmall: return "FileTooSmall";
    case K::kHeaderTooSmall: return "HeaderTooSmall";
    case K::kHeaderTooLarge: return "HeaderTooLarge";
    case K::kHeaderPastEnd: return "HeaderPastEnd";
    case K::kHeaderNotJson: return "HeaderNotJson";
    case K::kHeaderNotObject: return "HeaderNotObject";
    case K::kHeaderTooDeep: return "HeaderTooDeep";
    case K::kDuplicateName: return "DuplicateName";
    case K::kEmptyName: return "EmptyName";
    case K::kMetadataNotObject: return "MetadataNotObject";
    case K::kMetadataNotString: return "MetadataNotString";
    case K::kEntryNotObject: return "EntryNotObject";
    case K::kMissingField: return "MissingField";
    case K::kUnknownField: return "UnknownField";
    case K::kBadFieldType: return "BadFieldType";
    case K::kUnknownDtype: return "UnknownDtype";
    case K::kBadShape: return "BadShape";
    case K::kSizeOverflow: return "SizeOverflow";
    case K::kBadOffsets: return "BadOffsets";
    case K::kOffsetsReversed: return "OffsetsReversed";
    case K::kByteSpanMismatch: return "ByteSpanMismatch";
    case K::kOffsetOutOfBounds: return "OffsetOutOfBounds";
    case K::kOverlap: return "Overlap";
    case K::kHole: return "Hole";
    case K::kTrailingBytes: return "TrailingBytes";
    case K::kTensorNotFound: return "TensorNotFound";
    case K::kWrongDtype: return "WrongDtype";
    case K::kWrongShape: return "WrongShape";
    case K::kMisaligned: return "Misaligned";
    case K::kInvalidArgument: return "InvalidArgument";
  }
  return "Unknown";
}

SafetensorsError::SafetensorsError(SafetensorsErrorKind kind, const std::string& source,
                                   const std::string& detail)
    : std::runtime_error("safetensors " + source + ": " + detail + " [" + error_kind_name(kind) +
                         "]"),
      kind_(kind),
      source_(source) {}

}  // namespace rt3::format
