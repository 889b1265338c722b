#pragma once
// Element types of the safetensors container and the half-precision conversions the
// Hugging Face importer needs (checkpoints are often stored as F16 or BF16).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace rt3::format {

// Every dtype of the safetensors spec that has a whole number of bytes per element.
// The sub-byte types of newer spec revisions (F4, F6_*) are not accepted.
enum class DType : uint8_t {
  BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64,
};

// Bytes per element (1, 2, 4 or 8).
size_t dtype_size(DType t);
// Spelling used in the safetensors header, e.g. "F32", "BF16", "BOOL".
const char* dtype_name(DType t);
// Inverse of dtype_name; exact, case-sensitive match. nullopt for anything else.
std::optional<DType> dtype_from_name(std::string_view name);

// IEEE 754 binary16 -> float. Exact for every input (normals, subnormals, +-0, +-inf);
// NaN stays NaN with its payload shifted into the float mantissa.
float half_to_float(uint16_t bits);
// bfloat16 -> float. Exact: bfloat16 is the upper half of a float.
float bf16_to_float(uint16_t bits);

}  // namespace rt3::format
