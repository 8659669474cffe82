//===- OnnxImport.cpp - `llmc compile model.onnx` -------------------------===//

#include "frontends/onnx/OnnxImport.h"

#include "frontends/hf/ModelBuilder.h"
#include "frontends/onnx/GeneralLowering.h"
#include "frontends/onnx/ModelRecognizer.h"
#include "frontends/onnx/OnnxGraph.h"

#include "onnx/checker.h"
#include "onnx/onnx_pb.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <fstream>
#include <set>

using namespace llmc;
using namespace llmc::onnx_import;
using llvm::formatv;

namespace {

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The first line of an exception message (the checker's run on).
std::string firstLine(const std::string &text) {
  return text.substr(0, text.find('\n'));
}

constexpr int64_t kMinOpset = 13, kMaxOpset = 17;

/// Reads every initializer stored outside the model file into its raw_data.
/// Locations must be relative paths inside the model's folder.
llvm::Error loadExternalData(onnx::ModelProto &model,
                             llvm::StringRef modelFile) {
  llvm::SmallString<256> folder(llvm::sys::path::parent_path(modelFile));
  if (folder.empty())
    folder = ".";
  llvm::SmallString<256> realFolder;
  if (llvm::sys::fs::real_path(folder, realFolder))
    return fail(modelFile + ": cannot resolve its folder");
  for (onnx::TensorProto &t : *model.mutable_graph()->mutable_initializer()) {
    if (t.data_location() != onnx::TensorProto::EXTERNAL)
      continue;
    std::string location;
    int64_t offset = 0, length = -1;
    for (const onnx::StringStringEntryProto &kv : t.external_data()) {
      if (kv.key() == "location")
        location = kv.value();
      else if (kv.key() == "offset" || kv.key() == "length") {
        int64_t n;
        if (llvm::StringRef(kv.value()).getAsInteger(10, n) || n < 0)
          return fail(modelFile + ": initializer '" + t.name() + "': " +
                      kv.key() + " '" + kv.value() + "' is not a byte count");
        (kv.key() == "offset" ? offset : length) = n;
      }
    }
    auto where = [&] {
      return (modelFile + ": initializer '" + t.name() + "': external data '" +
              location + "'")
          .str();
    };
    if (location.empty() || llvm::sys::path::is_absolute(location))
      return fail(where() + " must be a path relative to the model's folder");
    llvm::SmallString<256> path(realFolder), realPath;
    llvm::sys::path::append(path, location);
    if (llvm::sys::fs::real_path(path, realPath))
      return fail(where() + " does not exist");
    llvm::StringRef inside(realPath);
    // "." resolves to the folder itself: equal length, so not inside it.
    if (inside.size() <= realFolder.size() || !inside.starts_with(realFolder) ||
        !llvm::sys::path::is_separator(inside[realFolder.size()]))
      return fail(where() + " lies outside the model's folder");
    if (!llvm::sys::fs::is_regular_file(realPath))
      return fail(where() + " is not a regular file");
    std::ifstream in(std::string(realPath), std::ios::binary);
    in.seekg(0, std::ios::end);
    int64_t size = in.tellg();
    if (!in || offset > size)
      return fail(where() + ": offset past the end of the file");
    if (length < 0)
      length = size - offset;
    if (length > size - offset)
      return fail(formatv("{0}: {1} bytes at offset {2} run past the end of "
                          "the file ({3} bytes)",
                          where(), length, offset, size));
    std::string bytes(length, '\0');
    in.seekg(offset);
    in.read(bytes.data(), length);
    if (!in)
      return fail(where() + ": read failed");
    t.set_raw_data(std::move(bytes));
    t.clear_external_data();
    t.set_data_location(onnx::TensorProto::DEFAULT);
  }
  return llvm::Error::success();
}

/// Optimum's merged decoder (`decoder_model_merged.onnx`): one `If` on the
/// graph input `use_cache_branch` between the decoder with a past (then)
/// and without (else). llmc binds a sequence's first step, which takes the
/// branch without a cache: its nodes replace the If (reading the outer
/// graph's inputs and initializers as before), Identity nodes give the If's
/// outputs their values, and the input goes.
llvm::Error inlineUseCacheBranch(onnx::ModelProto &model,
                                 const std::string &file) {
  onnx::GraphProto *graph = model.mutable_graph();
  auto input = llvm::find_if(graph->input(), [](const auto &v) {
    return v.name() == "use_cache_branch";
  });
  if (input == graph->input().end())
    return llvm::Error::success();
  auto branch = llvm::find_if(graph->node(), [](const onnx::NodeProto &n) {
    return n.op_type() == "If" && n.input_size() == 1 &&
           n.input(0) == "use_cache_branch";
  });
  const onnx::GraphProto *elseBody = nullptr;
  if (branch != graph->node().end())
    for (const onnx::AttributeProto &a : branch->attribute())
      if (a.name() == "else_branch")
        elseBody = &a.g();
  if (!elseBody || elseBody->output_size() != branch->output_size())
    return fail(file + ": graph input 'use_cache_branch' is not the "
                       "condition of an If whose else branch gives its "
                       "outputs (Optimum's merged decoder)");
  onnx::NodeProto ifNode = *branch;
  const onnx::GraphProto &body = *elseBody;
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  for (const onnx::NodeProto &n : graph->node()) {
    if (&n != &*branch) {
      *nodes.Add() = n;
      continue;
    }
    for (const onnx::TensorProto &t : body.initializer())
      *graph->add_initializer() = t;
    for (const onnx::NodeProto &inner : body.node())
      *nodes.Add() = inner;
    for (int i = 0; i < ifNode.output_size(); ++i) {
      onnx::NodeProto *rename = nodes.Add();
      rename->set_op_type("Identity");
      rename->set_name(ifNode.name() + "/" + ifNode.output(i));
      rename->add_input(body.output(i).name());
      rename->add_output(ifNode.output(i));
    }
  }
  graph->mutable_node()->Swap(&nodes);
  graph->mutable_input()->erase(input);
  return llvm::Error::success();
}

llvm::Expected<onnx::ModelProto> loadModel(const std::string &file) {
  auto buffer = llvm::MemoryBuffer::getFile(file, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return fail(file + ": " + buffer.getError().message());
  onnx::ModelProto model;
  if ((*buffer)->getBufferSize() > (size_t(1) << 31) ||
      !model.ParseFromArray((*buffer)->getBufferStart(),
                            static_cast<int>((*buffer)->getBufferSize())))
    return fail(file + ": not an ONNX model (the protobuf does not parse)");
  if (!model.has_graph())
    return fail(file + ": not an ONNX model (no graph)");
  int64_t opset = -1;
  for (const onnx::OperatorSetIdProto &o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx")
      opset = o.version();
  if (opset < kMinOpset || opset > kMaxOpset)
    return fail(formatv("{0}: opset {1} of the default domain is outside the "
                        "supported {2}-{3} (export with opset_version=17)",
                        file, opset, kMinOpset, kMaxOpset));
  if (llvm::Error e = loadExternalData(model, file))
    return std::move(e);
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception &e) {
    return fail(file +
                ": the ONNX checker refuses the model: " + firstLine(e.what()));
  }
  if (llvm::Error e = inlineUseCacheBranch(model, file))
    return std::move(e);
  return std::move(model);
}

/// Hugging Face's config.json beside the model, as Optimum exports write it.
llvm::Expected<std::optional<ModelConfig>>
siblingConfig(llvm::StringRef modelFile) {
  llvm::SmallString<256> path(llvm::sys::path::parent_path(modelFile));
  llvm::sys::path::append(path, "config.json");
  if (!llvm::sys::fs::exists(path))
    return std::optional<ModelConfig>();
  auto config = loadModelConfig(path);
  if (!config)
    return config.takeError();
  return std::optional<ModelConfig>(*config);
}

/// The recognised config must say what the config.json beside it says.
llvm::Error agree(const ModelConfig &graph, const ModelConfig &file,
                  llvm::StringRef configPath) {
  auto differ = [&](const char *field, double inGraph, double inFile) {
    return fail(formatv("{0}: {1} is {2}, but the ONNX graph computes {3}",
                        configPath, field, inFile, inGraph));
  };
  if (graph.family != file.family)
    return fail(configPath + ": model_type '" + file.modelType() +
                "', but the ONNX graph is a " + graph.modelType() + " model");
  struct Field {
    const char *name;
    double a, b;
  } fields[] = {
      {"vocab_size", double(graph.vocabSize), double(file.vocabSize)},
      {"hidden size", double(graph.hiddenSize), double(file.hiddenSize)},
      {"layer count", double(graph.numLayers), double(file.numLayers)},
      {"head count", double(graph.numHeads), double(file.numHeads)},
      {"key/value head count", double(graph.numKVHeads),
       double(file.numKVHeads)},
      {"MLP width", double(graph.intermediateSize),
       double(file.intermediateSize)},
      {"norm epsilon", graph.normEpsilon, file.normEpsilon},
      {"rope_theta", graph.ropeTheta, file.ropeTheta},
      {"tie_word_embeddings", double(graph.tieWordEmbeddings),
       double(file.tieWordEmbeddings)},
  };
  for (const Field &f : fields)
    if (std::fabs(f.a - f.b) > 1e-6 * std::max(1.0, std::fabs(f.b)))
      return differ(f.name, f.a, f.b);
  return llvm::Error::success();
}

} // namespace

bool llmc::isOnnxModelPath(llvm::StringRef path) {
  if (path.ends_with(".onnx"))
    return true;
  llvm::SmallString<256> inside(path);
  llvm::sys::path::append(inside, "model.onnx");
  return llvm::sys::fs::is_directory(path) && llvm::sys::fs::exists(inside);
}

std::string llmc::hfConfigJson(const ModelConfig &c) {
  llvm::json::Object o;
  if (c.family == ModelFamily::GPT2) {
    o = llvm::json::Object{
        {"architectures", llvm::json::Array{"GPT2LMHeadModel"}},
        {"model_type", "gpt2"},
        {"vocab_size", c.vocabSize},
        {"n_embd", c.hiddenSize},
        {"n_layer", c.numLayers},
        {"n_head", c.numHeads},
        {"n_inner", c.intermediateSize},
        {"n_positions", c.maxPositions},
        {"layer_norm_epsilon", c.normEpsilon},
        {"activation_function", c.geluTanh ? "gelu_new" : "gelu"},
    };
  } else {
    o = llvm::json::Object{
        {"architectures", llvm::json::Array{"LlamaForCausalLM"}},
        {"model_type", "llama"},
        {"vocab_size", c.vocabSize},
        {"hidden_size", c.hiddenSize},
        {"num_hidden_layers", c.numLayers},
        {"num_attention_heads", c.numHeads},
        {"num_key_value_heads", c.numKVHeads},
        {"intermediate_size", c.intermediateSize},
        {"max_position_embeddings", c.maxPositions},
        {"rms_norm_eps", c.normEpsilon},
        {"rope_theta", c.ropeTheta},
        {"tie_word_embeddings", c.tieWordEmbeddings},
        {"hidden_act", "silu"},
    };
  }
  return formatv("{0:2}", llvm::json::Value(std::move(o))).str() + "\n";
}

/// The model file of a `.onnx` path or a folder holding model.onnx.
static std::string modelFile(llvm::StringRef path) {
  if (!llvm::sys::fs::is_directory(path))
    return path.str();
  llvm::SmallString<256> inside(path);
  llvm::sys::path::append(inside, "model.onnx");
  return std::string(inside);
}

static int64_t defaultOpset(const onnx::ModelProto &model) {
  int64_t opset = 0;
  for (const onnx::OperatorSetIdProto &o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx")
      opset = o.version();
  return opset;
}

llvm::Expected<ImportedGraph> llmc::importOnnxGraph(llvm::StringRef path,
                                                    mlir::MLIRContext &context,
                                                    int64_t batch, int64_t seq,
                                                    bool train) {
  std::string file = modelFile(path);
  auto model = loadModel(file);
  if (!model)
    return model.takeError();
  // Graph::build reads float64 and float16 as floats too; llmc's general
  // kernels compute in float32 only, so other types are refused here.
  std::set<std::string> initializers;
  for (const onnx::TensorProto &t : model->graph().initializer())
    initializers.insert(t.name());
  // Token ids may be int64 or int32 (run as int32).
  auto check = [&](const onnx::ValueInfoProto &v, const char *what,
                   bool ids) -> llvm::Error {
    int type = v.type().tensor_type().elem_type();
    if (type == onnx::TensorProto::FLOAT ||
        (ids && (type == onnx::TensorProto::INT64 ||
                 type == onnx::TensorProto::INT32)))
      return llvm::Error::success();
    return fail(formatv("{0}: graph {1} '{2}' has element type {3}; the "
                        "general lowering takes float32 tensors{4}",
                        file, what, v.name(), type,
                        ids ? " and integer ids" : ""));
  };
  for (const onnx::ValueInfoProto &v : model->graph().input())
    if (!initializers.count(v.name()))
      if (llvm::Error e = check(v, "input", true))
        return std::move(e);
  for (const onnx::ValueInfoProto &v : model->graph().output())
    if (llvm::Error e = check(v, "output", false))
      return std::move(e);
  auto graph = Graph::build(*model, DimBinding{batch, seq});
  if (!graph)
    return fail(file + ": " + llvm::toString(graph.takeError()));
  auto lowered = lowerGeneral(
      *graph, context, train ? GeneralProgram::Loss : GeneralProgram::Forward);
  if (!lowered)
    return fail(file + ": " + llvm::toString(lowered.takeError()));
  ImportedGraph imported;
  imported.module = std::move(lowered->module);
  for (GraphConstant &c : lowered->constants)
    imported.constants.push_back(
        {std::move(c.name), std::move(c.shape), std::move(c.data)});
  imported.graphNodes = model->graph().node_size();
  imported.nodesLowered = lowered->nodesLowered;
  imported.opset = defaultOpset(*model);
  return std::move(imported);
}

llvm::Expected<ImportedModel> llmc::importOnnxModel(llvm::StringRef path) {
  std::string file = modelFile(path);
  auto model = loadModel(file);
  if (!model)
    return model.takeError();
  auto sibling = siblingConfig(file);
  if (!sibling)
    return sibling.takeError();

  // Bind the symbolic batch and sequence to small sizes no weight dimension
  // shares, so the patterns can tell the axes apart.
  DimBinding dims{2, 7};
  auto graph = Graph::build(*model, dims);
  if (!graph)
    return fail(file + ": " + llvm::toString(graph.takeError()));
  int64_t maxPositions = *sibling ? (*sibling)->maxPositions : 0;
  auto recognized = recognizeModel(*graph, maxPositions);
  if (!recognized)
    return fail(file + ": " + llvm::toString(recognized.takeError()));

  ImportedModel imported;
  imported.config = recognized->config;
  if (*sibling) {
    llvm::SmallString<256> configPath(llvm::sys::path::parent_path(file));
    llvm::sys::path::append(configPath, "config.json");
    if (llvm::Error e = agree(imported.config, **sibling, configPath))
      return std::move(e);
  }
  imported.hfConfigJson = hfConfigJson(imported.config);
  // The text must read back as the same config (it goes into plans).
  if (auto reread = parseModelConfig(imported.hfConfigJson, file); !reread)
    return fail(file + ": the recognised model is not a valid config: " +
                llvm::toString(reread.takeError()));
  imported.graphNodes = model->graph().node_size();
  imported.nodesRecomposed = recognized->nodesRecomposed;
  imported.opset = defaultOpset(*model);

  for (const ParamSpec &spec : listParameters(imported.config)) {
    auto it = recognized->params.find(spec.name);
    if (it == recognized->params.end() || !it->second.value)
      return fail(file + ": no weight found for parameter '" + spec.name + "'");
    const Value &w = *it->second.value;
    std::vector<int64_t> stored = spec.shape;
    if (it->second.transpose)
      std::reverse(stored.begin(), stored.end());
    if (w.shape != stored)
      return fail(formatv("{0}: initializer '{1}' has {2} elements in shape "
                          "[{3}], but parameter '{4}' needs [{5}]",
                          file, w.name, w.numElements(),
                          llvm::make_range(w.shape.begin(), w.shape.end()),
                          spec.name,
                          llvm::make_range(stored.begin(), stored.end())));
    ImportedTensor t{spec.name, spec.shape, {}};
    if (!it->second.transpose) {
      t.data = w.weight;
    } else {
      int64_t rows = stored[0], cols = stored[1];
      t.data.resize(w.weight.size());
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
          t.data[c * rows + r] = w.weight[r * cols + c];
    }
    imported.weights.push_back(std::move(t));
  }
  return std::move(imported);
}
