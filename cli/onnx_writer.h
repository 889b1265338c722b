#pragma once
// Just enough of the ONNX protobuf format to write an inference graph (docs/bench.md "ONNX
// Runtime"): a model with one graph of nodes, initializers (raw little-endian data), inputs and
// outputs. The protobuf wire format is written by hand (varints and length-delimited fields) so
// the baseline needs no protobuf library; field numbers are those of onnx/onnx.proto.
#include <cstdint>
#include <string>
#include <vector>

namespace rt3::cli::onnx {

enum class DataType : int { kFloat = 1, kUint8 = 2, kInt8 = 3, kInt32 = 6, kInt64 = 7 };

struct Attribute {
  std::string name;
  enum class Kind { kFloat = 1, kInt = 2, kInts = 7 } kind = Kind::kInt;
  float f = 0;
  int64_t i = 0;
  std::vector<int64_t> ints;
};
Attribute attr_f(const std::string& name, float v);
Attribute attr_i(const std::string& name, int64_t v);
Attribute attr_ints(const std::string& name, std::vector<int64_t> v);

struct Node {
  std::string op_type;
  std::vector<std::string> inputs, outputs;
  std::vector<Attribute> attributes;
  std::string domain;  // "" = ai.onnx; "com.microsoft" for ORT's contrib ops
};

struct Initializer {
  std::string name;
  DataType type = DataType::kFloat;
  std::vector<int64_t> dims;
  std::string raw;  // dims' product elements, little-endian
};

struct ValueInfo {
  std::string name;
  DataType type = DataType::kFloat;
  std::vector<std::string> dims;  // a number, or a symbolic name ("seq")
};

struct Graph {
  std::string name = "rt3";
  std::vector<Node> nodes;
  std::vector<Initializer> initializers;
  std::vector<ValueInfo> inputs, outputs;
};

// The serialized ModelProto (IR version 8; opsets: ai.onnx 17, plus com.microsoft 1 when a node
// uses it).
std::string serialize_model(const Graph& g);

}  // namespace rt3::cli::onnx
