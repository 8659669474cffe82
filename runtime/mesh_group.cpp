//===- mesh_group.cpp - This process's place on the device mesh -----------===//

#include "runtime/mesh_group.h"

#include "runtime/plan/collectives.h"

#include "runtime/comm/job.h"
#include "runtime/comm/launch.h"
#include "runtime/comm/torchrun_world.h"
#include "runtime/io/error.h"

#include <cstdlib>
#include <utility>

namespace llmc {

namespace {

// How the user would start `ranks` processes with the launcher that started
// this one.
std::string launch_command(const std::string &launcher, int64_t ranks) {
  std::string n = std::to_string(ranks);
  if (launcher == "srun")
    return "srun --mpi=pmix -n " + n;
  if (launcher == "torchrun")
    return "torchrun, WORLD_SIZE=" + n;
  if (launcher == "mpiexec")
    return "mpiexec -n " + n;
  return "mpirun -np " + n;
}

} // namespace

MeshGroup::MeshGroup(int64_t dp, int64_t tp, int64_t pp,
                     const std::string &plan_path)
    : pp_size_(int(pp)) {
  int64_t ranks = pp * dp * tp;
  comm::Launch launch = comm::launch_from_environment();
  if (ranks <= 1) {
    if (launch.size > 1)
      throw io::InputError(
          plan_path + ": compiled for one device, but " +
          std::to_string(launch.size) + " ranks were launched (" +
          launch.launcher +
          "); compile with --mesh dp=" + std::to_string(launch.size));
    return;
  }
  if (launch.launcher == "srun" && launch.srun_mpi != "pmix")
    throw io::InputError("srun started " + std::to_string(launch.size) +
                         " tasks with --mpi=" + launch.srun_mpi +
                         ", but Open MPI joins them through PMIx only; run " +
                         launch_command("srun", ranks));
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    // Serialized: a server calls MPI from its engine thread, never from
    // two threads at once.
    int provided = 0;
    if (launch.launcher == "torchrun" && launch.size > 1)
      comm::set_job_world(
          comm::join_torchrun_world(launch, MPI_THREAD_SERIALIZED));
    else
      MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
    owns_mpi_ = true;
  }
  world_ = comm::MpiCommunicator::world();
  if (world_->size() == 1 && launch.size > 1)
    throw io::InputError(launch.launcher + " started " +
                         std::to_string(launch.size) +
                         " ranks, but MPI sees each alone; run " +
                         launch_command(launch.launcher, ranks));
  if (world_->size() != ranks) {
    std::string mesh;
    for (auto [axis, n] : {std::pair{"pp", pp}, {"dp", dp}, {"tp", tp}})
      if (n > 1 || std::string(axis) == "dp")
        mesh += (mesh.empty() ? "" : ", ") + std::string(axis) + "=" +
                std::to_string(n);
    throw io::InputError(plan_path + ": compiled for " + mesh + " (" +
                         std::to_string(ranks) + " ranks), but " +
                         std::to_string(world_->size()) +
                         " were launched; run it with " +
                         launch_command(launch.launcher, ranks));
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
  if (owns_mpi_) {
    MPI_Finalize();
    comm::stop_torchrun_server();
  }
}

} // namespace llmc
