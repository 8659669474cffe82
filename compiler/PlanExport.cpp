//===- PlanExport.cpp - plan IR to the plan file --------------------------===//

#include "compiler/PlanExport.h"

#include <array>

#include "dialects/llm/IR/LLMDialect.h"
#include "dialects/plan/IR/PlanDialect.h"
#include "passes/Passes.h"

using namespace mlir;
namespace planfile = llmc::planfile;

namespace {

llvm::Error error(const Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message.str());
}

llvm::Expected<planfile::Category> category(plan::BufferCategory c) {
  switch (c) {
  case plan::BufferCategory::input:
    return planfile::INPUT;
  case plan::BufferCategory::param:
    return planfile::PARAM;
  case plan::BufferCategory::grad:
    return planfile::GRAD;
  case plan::BufferCategory::optimizer_state:
    return planfile::OPTIMIZER_STATE;
  case plan::BufferCategory::activation:
    return planfile::ACTIVATION;
  case plan::BufferCategory::temporary:
    return planfile::TEMPORARY;
  case plan::BufferCategory::output:
    return planfile::OUTPUT;
  case plan::BufferCategory::kv_cache:
    return planfile::KV_CACHE;
  case plan::BufferCategory::weight_scale:
    return planfile::WEIGHT_SCALE;
  case plan::BufferCategory::weight_copy:
    return planfile::WEIGHT_COPY;
  }
  return error("unknown buffer category");
}

llvm::Expected<planfile::Param> exportParam(Attribute attr) {
  planfile::Param param;
  if (auto b = dyn_cast<BoolAttr>(attr))
    param.set_b(b.getValue());
  else if (auto i = dyn_cast<IntegerAttr>(attr))
    param.set_i(i.getInt());
  else if (auto f = dyn_cast<FloatAttr>(attr))
    param.set_f(f.getValueAsDouble());
  else if (auto s = dyn_cast<StringAttr>(attr))
    param.set_s(s.str());
  else if (auto ints = dyn_cast<DenseI64ArrayAttr>(attr))
    // mutable_ints() first, so that an empty list is still a list.
    param.mutable_ints()->mutable_values()->Add(ints.asArrayRef().begin(),
                                                ints.asArrayRef().end());
  else
    return error("kernel parameter of unsupported kind");
  return param;
}

/// A buffer's plan.shard or plan.zero_slice dictionary as a Shard message.
llvm::Error exportShard(DictionaryAttr shard, StringRef buffer,
                        planfile::Shard &out) {
  auto axis = shard.getAs<StringAttr>("axis");
  auto dim = shard.getAs<IntegerAttr>("dim");
  auto parts = shard.getAs<IntegerAttr>("parts");
  auto blocks = shard.getAs<IntegerAttr>("blocks");
  if (!axis || !dim || !parts || !blocks)
    return error("buffer '" + buffer +
                 "' has a shard without axis, dim, parts, blocks");
  out.set_axis(axis.str());
  out.set_dim(dim.getInt());
  out.set_parts(parts.getInt());
  out.set_blocks(blocks.getInt());
  if (auto full = shard.getAs<DenseI64ArrayAttr>("full_shape"))
    for (int64_t d : full.asArrayRef())
      out.add_full_shape(d);
  return llvm::Error::success();
}

} // namespace

llvm::Expected<llmc::planfile::Plan>
llmc::exportPlan(func::FuncOp program, const llmc::planfile::ModelInfo &model) {
  planfile::Plan out;
  *out.mutable_model() = model;
  out.set_program(program.getSymName().str());
  auto arena = program->getAttrOfType<IntegerAttr>(
      plan::PlanDialect::kArenaBytesAttrName);
  if (!arena)
    return error("program has no arena size (run llmc-plan-memory)");
  out.set_arena_bytes(arena.getInt());
  if (auto stash = program->getAttrOfType<IntegerAttr>(
          plan::PlanDialect::kStashBytesAttrName))
    out.set_stash_bytes(stash.getInt());

  DenseMap<Value, uint32_t> tensors;
  auto addTensor = [&](Value value, uint32_t buffer) -> llvm::Error {
    auto type = cast<MemRefType>(value.getType());
    planfile::Tensor *tensor = out.add_tensors();
    tensor->set_buffer(buffer);
    if (type.getElementType().isF32())
      tensor->set_dtype(planfile::F32);
    else if (type.getElementType().isInteger(32))
      tensor->set_dtype(planfile::I32);
    else if (type.getElementType().isInteger(8))
      tensor->set_dtype(planfile::I8);
    else if (type.getElementType().isBF16())
      tensor->set_dtype(planfile::BF16);
    else
      return error("plan tensors must be f32, i32, i8 or bf16");
    for (int64_t d : type.getShape())
      tensor->add_shape(d);
    tensors[value] = out.tensors_size() - 1;
    return llvm::Error::success();
  };

  for (Operation &op : program.getBody().front()) {
    if (auto buffer = dyn_cast<plan::BufferOp>(op)) {
      if (!buffer.getOffset())
        return error("buffer without an offset (run llmc-plan-memory)");
      planfile::Buffer *b = out.add_buffers();
      b->set_name(buffer.getName().str());
      llvm::Expected<planfile::Category> c = category(buffer.getCategory());
      if (!c)
        return c.takeError();
      b->set_category(*c);
      b->set_offset(*buffer.getOffset());
      b->set_size_bytes(buffer.getSizeInBytes());
      b->set_stashed(buffer.getStashed());
      if (auto shard = buffer->getAttrOfType<DictionaryAttr>(
              mlir::llm::kPlanShardAttrName))
        if (llvm::Error e =
                exportShard(shard, buffer.getName(), *b->mutable_shard()))
          return std::move(e);
      if (auto slice = buffer->getAttrOfType<DictionaryAttr>(
              mlir::llm::kPlanSliceAttrName))
        if (llvm::Error e =
                exportShard(slice, buffer.getName(), *b->mutable_slice()))
          return std::move(e);
      if (auto parts =
              buffer->getAttrOfType<ArrayAttr>(mlir::llm::kPlanPartsAttrName))
        for (Attribute a : parts) {
          auto part = dyn_cast<DictionaryAttr>(a);
          auto name = part ? part.getAs<StringAttr>("name") : StringAttr();
          auto rows = part ? part.getAs<IntegerAttr>("rows") : IntegerAttr();
          if (!name || !rows)
            return error("buffer '" + buffer.getName() +
                         "' has a part without name and rows");
          planfile::Part *p = b->add_parts();
          p->set_name(name.str());
          p->set_rows(rows.getInt());
          if (auto shard = part.getAs<DictionaryAttr>("shard"))
            if (llvm::Error e =
                    exportShard(shard, name.getValue(), *p->mutable_shard()))
              return std::move(e);
        }
      if (llvm::Error e = addTensor(buffer, out.buffers_size() - 1))
        return std::move(e);
    } else if (auto view = dyn_cast<plan::ViewOp>(op)) {
      uint32_t source = out.tensors(tensors[view.getSource()]).buffer();
      if (llvm::Error e = addTensor(view, source))
        return std::move(e);
    } else if (auto call = dyn_cast<plan::KernelOp>(op)) {
      planfile::Kernel *kernel = out.add_kernels();
      kernel->set_name(call.getCallee().str());
      for (Value in : call.getIns())
        kernel->add_ins(tensors[in]);
      for (Value o : call.getOuts())
        kernel->add_outs(tensors[o]);
      for (NamedAttribute attr : call.getParams()) {
        llvm::Expected<planfile::Param> param = exportParam(attr.getValue());
        if (!param)
          return param.takeError();
        (*kernel->mutable_params())[attr.getName().str()] = *param;
      }
      auto layer =
          call->getAttrOfType<IntegerAttr>(llm::LLMDialect::kLayerAttrName);
      kernel->set_layer(layer ? layer.getInt() : -1);
      if (auto role =
              call->getAttrOfType<StringAttr>(llm::LLMDialect::kRoleAttrName))
        kernel->set_role(role.str());
    } else if (!isa<func::ReturnOp>(op)) {
      return error("unexpected op in a plan program: " +
                   op.getName().getStringRef());
    }
  }
  // Programs tagged kernel by kernel (an inference plan's prefill and
  // decode): one per run of kernels of one tag.
  for (auto [k, op] :
       llvm::enumerate(program.getBody().front().getOps<plan::KernelOp>())) {
    auto tag =
        op->getAttrOfType<StringAttr>(plan::PlanDialect::kProgramAttrName);
    if (!tag)
      break;
    int n = out.programs_size();
    if (n == 0 || out.programs(n - 1).name() != tag.getValue()) {
      planfile::Program *p = out.add_programs();
      p->set_name(tag.str());
      p->set_begin(uint32_t(k));
    }
    out.mutable_programs(out.programs_size() - 1)->set_end(uint32_t(k + 1));
  }
  // A pipelined program's three parts.
  if (auto ends = program->getAttrOfType<DenseI64ArrayAttr>(
          plan::PlanDialect::kProgramEndsAttrName)) {
    uint32_t begin = 0;
    int64_t bounds[4] = {ends[0], ends[1], ends[2], out.kernels_size()};
    for (auto [name, end] :
         llvm::zip(std::array<const char *, 4>{"forward", "backward",
                                               "gradients", "update"},
                   bounds)) {
      planfile::Program *p = out.add_programs();
      p->set_name(name);
      p->set_begin(begin);
      p->set_end(uint32_t(end));
      begin = uint32_t(end);
    }
  }
  return out;
}
