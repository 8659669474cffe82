//===- mesh_group.cpp - This process's place on the device mesh -----------===//

#include "runtime/mesh_group.h"

#include "runtime/plan/collectives.h"

#include "runtime/comm/job.h"
#include "runtime/io/error.h"

#include <cstdlib>
#include <utility>

namespace llmc {

MeshGroup::MeshGroup(int64_t dp, int64_t tp, int64_t pp,
                     const std::string &plan_path)
    : pp_size_(int(pp)) {
  int64_t ranks = pp * dp * tp;
  if (ranks <= 1) {
    const char *launched = std::getenv("OMPI_COMM_WORLD_SIZE");
    if (launched && std::atoi(launched) > 1)
      throw io::InputError(plan_path + ": compiled for one device, but " +
                           launched +
                           " ranks were launched; compile with "
                           "--mesh dp=" +
                           launched);
    return;
  }
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    // Serialized: a server calls MPI from its engine thread, never from
    // two threads at once.
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
    owns_mpi_ = true;
  }
  world_ = comm::MpiCommunicator::world();
  if (world_->size() != ranks) {
    std::string mesh;
    for (auto [axis, n] : {std::pair{"pp", pp}, {"dp", dp}, {"tp", tp}})
      if (n > 1 || std::string(axis) == "dp")
        mesh += (mesh.empty() ? "" : ", ") + std::string(axis) + "=" +
                std::to_string(n);
    throw io::InputError(
        plan_path + ": compiled for " + mesh + " (" + std::to_string(ranks) +
        " ranks), but " + std::to_string(world_->size()) +
        " were launched; run it with mpirun -np " + std::to_string(ranks));
  }
  int rank = world_->rank(), T = int(tp);
  plan::MeshCoords at = plan::mesh_coords(rank, dp, tp);
  int t = int(at.tp), d = int(at.dp), s = int(at.stage);
  stage_ = s;
  tp_ = world_->split(rank / T, t);
  dp_ = world_->split(s * T + t, d);
  if (pp > 1) {
    pp_ = world_->split(d * T + t, s);
    // Megatron's embedding group: the first and last stage, which both
    // hold a tied embedding.
    bool ends = s == 0 || s == int(pp) - 1;
    embedding_ = world_->split(ends ? d * T + t : -1, s);
  }
}

MeshGroup::~MeshGroup() {
  // An error on this rank is on its way to the top, which reports it and
  // aborts the job; finalizing now would wait for the peers first.
  if (comm::unwinding()) {
    for (auto *c : {&embedding_, &pp_, &tp_, &dp_})
      c->release();
    world_.release();
    return;
  }
  embedding_.reset();
  pp_.reset();
  tp_.reset();
  dp_.reset();
  world_.reset();
  if (owns_mpi_)
    MPI_Finalize();
}

} // namespace llmc
