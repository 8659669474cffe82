//===- LaunchTest.cpp - Reading the launcher's environment ----------------===//
#include "runtime/comm/launch.h"

#include "runtime/io/error.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

using llmc::comm::device_of_local_rank;
using llmc::comm::Launch;
using llmc::comm::launch_from_environment;
namespace io = llmc::io;

namespace {

Launch launch(const std::map<std::string, std::string> &env) {
  return launch_from_environment([&](const char *name) -> const char * {
    auto found = env.find(name);
    return found == env.end() ? nullptr : found->second.c_str();
  });
}

std::string error(const std::map<std::string, std::string> &env) {
  try {
    launch(env);
  } catch (const llmc::io::InputError &e) {
    return e.what();
  }
  return "";
}

TEST(Launch, AloneWithoutVariables) {
  Launch l = launch({});
  EXPECT_EQ(l.launcher, "");
  EXPECT_EQ(l.size, 1);
  EXPECT_EQ(l.rank, 0);
}

TEST(Launch, Mpirun) {
  Launch l = launch({{"OMPI_COMM_WORLD_SIZE", "8"},
                     {"OMPI_COMM_WORLD_RANK", "5"},
                     {"OMPI_COMM_WORLD_LOCAL_RANK", "1"}});
  EXPECT_EQ(l.launcher, "mpirun");
  EXPECT_EQ(l.size, 8);
  EXPECT_EQ(l.rank, 5);
  EXPECT_EQ(l.local_rank, 1);
}

TEST(Launch, SrunStepNotTheBatchScript) {
  Launch step = launch({{"SLURM_STEP_NUM_TASKS", "4"},
                        {"SLURM_NTASKS", "4"},
                        {"SLURM_PROCID", "3"},
                        {"SLURM_LOCALID", "3"}});
  EXPECT_EQ(step.launcher, "srun");
  EXPECT_EQ(step.size, 4);
  EXPECT_EQ(step.rank, 3);
  EXPECT_EQ(step.srun_mpi, "none");
  EXPECT_EQ(
      launch({{"SLURM_STEP_NUM_TASKS", "2"}, {"PMIX_RANK", "0"}}).srun_mpi,
      "pmix");
  EXPECT_EQ(launch({{"SLURM_STEP_NUM_TASKS", "2"}, {"PMI_FD", "11"}}).srun_mpi,
            "pmi2");
  // An sbatch script's own shell has the allocation's variables only: it
  // is one process.
  Launch script = launch({{"SLURM_NTASKS", "4"}, {"SLURM_PROCID", "0"}});
  EXPECT_EQ(script.size, 1);
}

TEST(Launch, MpiLauncherWinsOverInheritedTorchrunVariables) {
  Launch l = launch({{"WORLD_SIZE", "2"},
                     {"RANK", "1"},
                     {"OMPI_COMM_WORLD_SIZE", "4"},
                     {"OMPI_COMM_WORLD_RANK", "0"}});
  EXPECT_EQ(l.launcher, "mpirun");
  EXPECT_EQ(l.size, 4);
  EXPECT_EQ(l.rank, 0);
}

TEST(Launch, Torchrun) {
  Launch l = launch({{"WORLD_SIZE", "4"},
                     {"RANK", "2"},
                     {"LOCAL_RANK", "0"},
                     {"MASTER_ADDR", "node7"},
                     {"MASTER_PORT", "29400"}});
  EXPECT_EQ(l.launcher, "torchrun");
  EXPECT_EQ(l.rank, 2);
  EXPECT_EQ(l.local_rank, 0);
  EXPECT_EQ(l.master_addr, "node7");
  EXPECT_EQ(l.master_port, 29400);
  Launch defaults = launch({{"WORLD_SIZE", "2"}, {"RANK", "1"}});
  EXPECT_EQ(defaults.master_addr, "127.0.0.1");
  EXPECT_EQ(defaults.master_port, 29500);
  EXPECT_EQ(defaults.local_rank, 1);
}

TEST(Launch, MalformedVariablesNameThemselves) {
  EXPECT_EQ(error({{"WORLD_SIZE", "4"}, {"RANK", "4"}}),
            "environment variable RANK: expected an integer in [0, 3], got "
            "'4'");
  EXPECT_EQ(error({{"WORLD_SIZE", "0"}}),
            "environment variable WORLD_SIZE: expected an integer in [1, "
            "1048576], got '0'");
  EXPECT_EQ(error({{"SLURM_STEP_NUM_TASKS", "2x"}}),
            "environment variable SLURM_STEP_NUM_TASKS: expected an integer "
            "in [1, 1048576], got '2x'");
  EXPECT_EQ(error({{"WORLD_SIZE", "2"}, {"MASTER_PORT", "65535"}}),
            "environment variable MASTER_PORT: expected an integer in [1, "
            "65534], got '65535'");
  EXPECT_EQ(error({{"PMI_SIZE", "99999999999999999999"}}),
            "environment variable PMI_SIZE: expected an integer in [1, "
            "1048576], got '99999999999999999999'");
}

// One GPU per rank: the local rank's own, and a clear error when a node
// has more ranks than GPUs (never local_rank % devices: two ranks on one).
TEST(Launch, DeviceOfLocalRank) {
  EXPECT_EQ(device_of_local_rank(0, 8), 0);
  EXPECT_EQ(device_of_local_rank(7, 8), 7);
  EXPECT_EQ(device_of_local_rank(3, 1), 0); // bound by the launcher
  try {
    device_of_local_rank(4, 4);
    FAIL() << "two ranks on one GPU";
  } catch (const io::InputError &e) {
    EXPECT_STREQ(e.what(), "local rank 4 needs a GPU of its own, but this "
                           "node's processes see only 4: start at most 4 "
                           "ranks per node");
  }
  EXPECT_THROW(device_of_local_rank(0, 0), io::InputError);
}

} // namespace
