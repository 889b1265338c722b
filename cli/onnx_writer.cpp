#include "cli/onnx_writer.h"

#include <cstring>

namespace rt3::cli::onnx {
namespace {

// Wire types: 0 varint, 2 length-delimited, 5 32-bit.
void varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void key(std::string& out, int field, int wire) { varint(out, static_cast<uint64_t>(field) << 3 | static_cast<uint64_t>(wire)); }
void field_varint(std::string& out, int field, int64_t v) {
  key(out, field, 0);
  varint(out, static_cast<uint64_t>(v));  // negative int64: ten bytes, two's complement (protobuf's rule)
}
void field_bytes(std::string& out, int field, const std::string& bytes) {
  key(out, field, 2);
  varint(out, bytes.size());
  out += bytes;
}
void field_float(std::string& out, int field, float f) {
  key(out, field, 5);
  char b[4];
  std::memcpy(b, &f, 4);  // little-endian hosts only (x86-64, aarch64)
  out.append(b, 4);
}

std::string attribute(const Attribute& a) {
  std::string s;
  field_bytes(s, 1, a.name);
  switch (a.kind) {
    case Attribute::Kind::kFloat: field_float(s, 2, a.f); break;
    case Attribute::Kind::kInt: field_varint(s, 3, a.i); break;
    case Attribute::Kind::kInts:
      for (int64_t v : a.ints) field_varint(s, 8, v);
      break;
  }
  field_varint(s, 20, static_cast<int64_t>(a.kind));
  return s;
}

std::string node(const Node& n, size_t index) {
  std::string s;
  for (const auto& i : n.inputs) field_bytes(s, 1, i);
  for (const auto& o : n.outputs) field_bytes(s, 2, o);
  field_bytes(s, 3, n.op_type + "_" + std::to_string(index));
  field_bytes(s, 4, n.op_type);
  for (const auto& a : n.attributes) field_bytes(s, 5, attribute(a));
  if (!n.domain.empty()) field_bytes(s, 7, n.domain);
  return s;
}

std::string tensor(const Initializer& t) {
  std::string s;
  for (int64_t d : t.dims) field_varint(s, 1, d);
  field_varint(s, 2, static_cast<int64_t>(t.type));
  field_bytes(s, 8, t.name);
  field_bytes(s, 9, t.raw);
  return s;
}

std::string value_info(const ValueInfo& v) {
  std::string shape;
  for (const auto& d : v.dims) {
    std::string dim;
    const bool number = !d.empty() && d.find_first_not_of("0123456789") == std::string::npos;
    if (number) field_varint(dim, 1, std::stoll(d));
    else field_bytes(dim, 2, d);
    field_bytes(shape, 1, dim);
  }
  std::string tensor_type;
  field_varint(tensor_type, 1, static_cast<int64_t>(v.type));
  field_bytes(tensor_type, 2, shape);
  std::string type;
  field_bytes(type, 1, tensor_type);
  std::string s;
  field_bytes(s, 1, v.name);
  field_bytes(s, 2, type);
  return s;
}

std::string opset(const std::string& domain, int64_t version) {
  std::string s;
  if (!domain.empty()) field_bytes(s, 1, domain);
  field_varint(s, 2, version);
  return s;
}

}  // namespace

Attribute attr_f(const std::string& name, float v) { return {name, Attribute::Kind::kFloat, v, 0, {}}; }
Attribute attr_i(const std::string& name, int64_t v) { return {name, Attribute::Kind::kInt, 0, v, {}}; }
Attribute attr_ints(const std::string& name, std::vector<int64_t> v) { return {name, Attribute::Kind::kInts, 0, 0, std::move(v)}; }

std::string serialize_model(const Graph& g) {
  std::string graph;
  bool contrib = false;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    field_bytes(graph, 1, node(g.nodes[i], i));
    contrib |= g.nodes[i].domain == "com.microsoft";
  }
  field_bytes(graph, 2, g.name);
  for (const auto& t : g.initializers) field_bytes(graph, 5, tensor(t));
  for (const auto& v : g.inputs) field_bytes(graph, 11, value_info(v));
  for (const auto& v : g.outputs) field_bytes(graph, 12, value_info(v));

  std::string model;
  field_varint(model, 1, 8);  // IR version 8
  field_bytes(model, 2, "rt3");
  field_bytes(model, 7, graph);
  field_bytes(model, 8, opset("", 17));
  if (contrib) field_bytes(model, 8, opset("com.microsoft", 1));
  return model;
}

}  // namespace rt3::cli::onnx
