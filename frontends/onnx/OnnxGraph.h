//===- OnnxGraph.h - An ONNX graph at concrete shapes, folded ---*- C++ -*-===//
//
// The importer's working form of an ONNX graph: every value has a concrete
// shape (the graph's symbolic batch and sequence dimensions bound to chosen
// sizes), and every node whose inputs are all constants has been evaluated,
// so shape arithmetic (Shape/Gather/Unsqueeze/Concat), masks
// (ConstantOfShape/Trilu/Where) and RoPE tables (Range/Einsum/Cos/Sin) are
// plain constants by the time the recomposition patterns look at the graph.
// Initializers of floating-point type and rank >= 1 are weights: never
// folded, they become the model's parameters.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_FRONTENDS_ONNX_ONNXGRAPH_H
#define LLMC_FRONTENDS_ONNX_ONNXGRAPH_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace onnx {
class ModelProto;
class NodeProto;
class TensorProto;
} // namespace onnx

namespace llmc::onnx_import {

/// Element types the importer tells apart; folded data is held as doubles.
enum class ElementType { Float, Int, Bool };

struct Node;

struct Value {
  std::string name;
  std::vector<int64_t> shape;
  ElementType type = ElementType::Float;
  /// Folded constant: `data` holds every element, row-major.
  bool isConstant = false;
  std::vector<double> data;
  /// A weight (float initializer of rank >= 1): `weight` holds its elements.
  bool isWeight = false;
  std::vector<float> weight;
  Node *producer = nullptr;
  std::vector<Node *> users;

  int64_t numElements() const;
  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  /// The single element of a constant with one element.
  std::optional<double> scalar() const;
};

struct Node {
  std::string op;
  std::string name;
  std::vector<Value *> inputs; // nullptr: an omitted optional input
  std::vector<Value *> outputs;
  const onnx::NodeProto *proto = nullptr;

  Value *input(size_t i) const {
    return i < inputs.size() ? inputs[i] : nullptr;
  }
  int64_t attrInt(llvm::StringRef attr, int64_t otherwise) const;
  float attrFloat(llvm::StringRef attr, float otherwise) const;
  std::optional<std::vector<int64_t>> attrInts(llvm::StringRef attr) const;
  std::string attrString(llvm::StringRef attr) const;
  /// "node '/Mul_3' (Mul)": how errors name a node.
  std::string describe() const;
};

/// What a graph input is, by its name: the token ids, one of the inputs a
/// cached export (Hugging Face Optimum's `model.onnx`) adds, or another
/// (kept as data with symbolic batch and sequence axes; a model has none).
enum class InputRole { Ids, AttentionMask, Positions, Past, Other };
/// `count`: how many inputs the graph has (a lone input is the ids).
InputRole inputRole(llvm::StringRef name, int count);

/// Sizes for the graph's symbolic dimensions, by the input axis they appear
/// on: `input_ids` [batch, seq].
struct DimBinding {
  int64_t batch = 2;
  int64_t seq = 7;
};

class Graph {
public:
  /// Builds the graph of `model` (external data already loaded), folding
  /// constants and propagating shapes. Errors name the node or tensor.
  static llvm::Expected<Graph> build(const onnx::ModelProto &model,
                                     const DimBinding &dims);

  Graph() = default;
  Graph(Graph &&) = default;
  Graph &operator=(Graph &&) = default;

  const std::vector<Value *> &inputs() const { return inputs_; }
  /// inputs()[i]'s role. Every input but the ids is bound to a constant of
  /// a sequence's first step: attention_mask all ones, position_ids 0..T-1,
  /// each past key and value of length 0.
  InputRole role(size_t i) const { return roles_[i]; }
  const std::vector<Value *> &outputs() const { return outputs_; }
  const std::deque<Node> &nodes() const { return nodes_; }
  /// Every value: inputs, initializers, node outputs.
  const std::deque<Value> &values() const { return values_; }
  /// Initializer names that Identity nodes gave a weight (a deduplicated
  /// export stores equal tensors once and names the copies by Identity).
  const std::multimap<const Value *, std::string> &aliases() const {
    return aliases_;
  }

private:
  Value *newValue(const std::string &name);
  llvm::Error addNode(const onnx::NodeProto &proto);

  std::deque<Value> values_;
  std::deque<Node> nodes_;
  std::map<std::string, Value *> byName_;
  std::vector<Value *> inputs_, outputs_;
  std::vector<InputRole> roles_;
  std::multimap<const Value *, std::string> aliases_;
};

/// Reads a TensorProto's elements (raw_data or typed fields) as doubles.
llvm::Expected<std::vector<double>> tensorValues(const onnx::TensorProto &t);

} // namespace llmc::onnx_import

#endif // LLMC_FRONTENDS_ONNX_ONNXGRAPH_H
