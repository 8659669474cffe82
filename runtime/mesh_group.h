//===- mesh_group.h - This process's place on the device mesh -------------===//
//
// This process's place on the mesh: MPI is started only for plans compiled
// for more than one rank, and a launch of the wrong size is refused on every
// rank before any collective, so nothing hangs. Ranks are numbered
// rank = (s·dp + d)·tp + t for pipeline stage s, data-parallel rank d and
// tensor-parallel rank t, so tensor-parallel ranks are neighbours and
// stages are farthest apart (as in Megatron).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/comm/mpi_communicator.h"
#include "runtime/io/error.h"

#include <array>
#include <memory>
#include <string>

namespace llmc {

class MeshGroup {
public:
  /// Starts MPI for a plan of pp x dp x tp ranks (not for one rank) and
  /// splits the world into the mesh axes; throws io::InputError naming
  /// `plan_path` when the launch has another number of ranks.
  MeshGroup(int64_t dp, int64_t tp, int64_t pp, const std::string &plan_path);
  ~MeshGroup();
  MeshGroup(const MeshGroup &) = delete;
  MeshGroup &operator=(const MeshGroup &) = delete;

  // The whole job; null on one device.
  comm::MpiCommunicator *world() const { return world_.get(); }
  comm::Communicator *dp() const { return dp_.get(); }
  comm::Communicator *tp() const { return tp_.get(); }
  comm::Communicator *pp() const { return pp_.get(); }
  comm::Communicator *embedding() const { return embedding_.get(); }
  int dp_rank() const { return dp_ ? dp_->rank() : 0; }
  int dp_size() const { return dp_ ? dp_->size() : 1; }
  int stage() const { return stage_; }
  int stages() const { return pp_size_; }
  bool leader() const { return !world_ || world_->rank() == 0; }
  // The rank that holds (or gathers) its stage's full tensors.
  bool stage_leader() const {
    return dp_rank() == 0 && (!tp_ || tp_->rank() == 0);
  }
  int rank() const { return world_ ? world_->rank() : 0; }
  int ranks() const { return world_ ? world_->size() : 1; }
  // Bytes this rank has sent in collectives so far, per kind, summed over
  // the mesh axes.
  std::array<uint64_t, comm::kNumCollectives> bytes_sent() const {
    std::array<uint64_t, comm::kNumCollectives> bytes{};
    for (comm::Communicator *c : {dp(), tp(), pp(), embedding()})
      if (c)
        c->stats().add_sent_to(bytes);
    return bytes;
  }
  // Throws on every rank when the leader reports `error` (empty: none):
  // io::InputError with it on the leader, `others` elsewhere. Only the
  // leader writes files, so this keeps a failed write from hanging the rest.
  void agree(const std::string &error, const std::string &others) const {
    float failed = error.empty() ? 0.0f : 1.0f;
    if (world_)
      world_->broadcast(&failed, 1, 0);
    if (failed == 0.0f)
      return;
    if (leader())
      throw io::InputError(error);
    throw io::InputError("rank 0 " + others + "; stopping");
  }

  // The mean over the data-parallel ranks of a per-rank scalar (the loss;
  // tensor-parallel ranks already agree on it).
  float mean(float value) const {
    if (dp_)
      dp_->all_reduce(&value, 1);
    return value / float(dp_size());
  }

private:
  std::unique_ptr<comm::MpiCommunicator> world_;
  std::unique_ptr<comm::Communicator> dp_, tp_, pp_, embedding_;
  int stage_ = 0, pp_size_ = 1;
  bool owns_mpi_ = false;
};

} // namespace llmc
