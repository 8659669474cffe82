//===- launch.cpp - Who started this process, read from its environment ---===//
#include "runtime/comm/launch.h"

#include "runtime/io/error.h"

#include <cerrno>
#include <cstdlib>

namespace llmc::comm {
namespace {

struct Variables {
  const char *launcher, *size, *rank, *local_rank;
};

// In order of precedence. srun's SLURM_STEP_NUM_TASKS is set for a job step
// only, not in an sbatch script's own shell, whose SLURM_NTASKS describes the
// allocation rather than this process.
constexpr Variables kLaunchers[] = {
    {"mpirun", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK",
     "OMPI_COMM_WORLD_LOCAL_RANK"},
    {"srun", "SLURM_STEP_NUM_TASKS", "SLURM_PROCID", "SLURM_LOCALID"},
    {"mpiexec", "PMI_SIZE", "PMI_RANK", "MPI_LOCALRANKID"},
    {"torchrun", "WORLD_SIZE", "RANK", "LOCAL_RANK"},
};

int read_int(const std::function<const char *(const char *)> &getenv,
             const char *name, int fallback, int min, int max) {
  const char *text = getenv(name);
  if (!text)
    return fallback;
  char *end = nullptr;
  errno = 0;
  long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || errno == ERANGE || value < min ||
      value > max)
    throw io::InputError("environment variable " + std::string(name) +
                         ": expected an integer in [" + std::to_string(min) +
                         ", " + std::to_string(max) + "], got '" + text + "'");
  return int(value);
}

} // namespace

Launch launch_from_environment(
    const std::function<const char *(const char *)> &getenv_or_null) {
  std::function<const char *(const char *)> getenv =
      getenv_or_null ? getenv_or_null
                     : [](const char *name) { return std::getenv(name); };
  constexpr int kMaxRanks = 1 << 20;
  for (const Variables &v : kLaunchers) {
    if (!getenv(v.size))
      continue;
    Launch launch;
    launch.launcher = v.launcher;
    launch.size = read_int(getenv, v.size, 1, 1, kMaxRanks);
    launch.rank = read_int(getenv, v.rank, 0, 0, launch.size - 1);
    launch.local_rank =
        read_int(getenv, v.local_rank, launch.rank, 0, launch.size - 1);
    if (launch.launcher == "srun")
      launch.srun_mpi = getenv("PMIX_RANK") ? "pmix"
                        : getenv("PMI_FD")  ? "pmi2"
                                            : "none";
    if (launch.launcher == "torchrun") {
      const char *addr = getenv("MASTER_ADDR");
      launch.master_addr = addr ? addr : "127.0.0.1";
      // torchrun's own store listens on MASTER_PORT (29500 by default).
      launch.master_port = read_int(getenv, "MASTER_PORT", 29500, 1, 65534);
    }
    return launch;
  }
  return {};
}

int device_of_local_rank(int local_rank, int visible_devices) {
  if (visible_devices <= 0)
    throw io::InputError("no CUDA device is visible to this process (check "
                         "CUDA_VISIBLE_DEVICES and the driver)");
  // One device visible: the launcher gave each rank its own
  // (CUDA_VISIBLE_DEVICES per task, Slurm's --gpus-per-task=1).
  if (visible_devices == 1)
    return 0;
  if (local_rank >= visible_devices)
    throw io::InputError("local rank " + std::to_string(local_rank) +
                         " needs a GPU of its "
                         "own, but this node's processes see only " +
                         std::to_string(visible_devices) + ": start at most " +
                         std::to_string(visible_devices) + " ranks per node");
  return local_rank;
}

} // namespace llmc::comm
