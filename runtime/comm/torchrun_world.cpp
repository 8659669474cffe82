//===- torchrun_world.cpp - One MPI job from processes torchrun started ---===//
#include "runtime/comm/torchrun_world.h"

#include "runtime/comm/mpi_check.h"
#include "runtime/io/error.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace llmc::comm {
namespace {

using Clock = std::chrono::steady_clock;

pid_t server_pid = -1;

[[noreturn]] void fail(const Launch &launch, const std::string &what) {
  throw io::InputError("torchrun rendezvous (rank " +
                       std::to_string(launch.rank) + ", " + launch.master_addr +
                       ":" + std::to_string(launch.master_port + 1) +
                       "): " + what);
}

std::string temporary_file() {
  const char *dir = std::getenv("TMPDIR");
  std::string path =
      std::string(dir && *dir ? dir : "/tmp") + "/llmc-pmix-uri.XXXXXX";
  int fd = mkstemp(path.data());
  if (fd < 0)
    throw io::InputError(path + ": cannot create: " + std::strerror(errno));
  close(fd);
  return path;
}

std::string read_file(const std::string &path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Starts ompi-server, which writes its address to `uri_file`; returns that
// address. The server dies with this process (PR_SET_PDEATHSIG), so an
// aborted job leaves none behind.
std::string start_server(const Launch &launch, const std::string &uri_file,
                         Clock::time_point deadline) {
  pid_t pid = fork();
  if (pid < 0)
    fail(launch, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    int null = open("/dev/null", O_RDWR);
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    execlp("ompi-server", "ompi-server", "--no-daemonize", "-r",
           uri_file.c_str(), static_cast<char *>(nullptr));
    _exit(127);
  }
  server_pid = pid;
  while (true) {
    std::string uri = read_file(uri_file);
    if (!uri.empty() && uri.back() == '\n')
      return uri;
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      server_pid = -1;
      fail(launch, WIFEXITED(status) && WEXITSTATUS(status) == 127
                       ? "cannot run ompi-server (Open MPI's openmpi-bin)"
                       : "ompi-server exited before reporting its address");
    }
    if (Clock::now() > deadline)
      fail(launch, "ompi-server did not report its address");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

int milliseconds_left(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - Clock::now());
  return left.count() > 0 ? int(left.count()) : 0;
}

// Rank 0's end of the rendezvous: a TCP port the other ranks connect to.
int listen_for_ranks(const Launch &launch) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_ANY);
  address.sin_port = htons(uint16_t(launch.master_port + 1));
  if (bind(listener, reinterpret_cast<sockaddr *>(&address), sizeof(address)) !=
          0 ||
      listen(listener, launch.size) != 0) {
    std::string why = std::strerror(errno);
    close(listener);
    fail(launch, "cannot listen (MASTER_PORT + 1): " + why);
  }
  return listener;
}

// Hands `message` to the next rank that connects. One rank at a time: Open
// MPI's connect and accept go wrong when several ranks connect to one port
// at once, so the next rank learns the port only after the previous joined.
void hand_out(const Launch &launch, int listener, int arrived,
              const std::string &message, Clock::time_point deadline) {
  while (true) {
    pollfd ready{listener, POLLIN, 0};
    if (poll(&ready, 1, milliseconds_left(deadline)) <= 0)
      fail(launch, "only " + std::to_string(arrived) + " of " +
                       std::to_string(launch.size) + " ranks arrived in time");
    int peer = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (peer < 0)
      continue;
    const char *data = message.data();
    size_t left = message.size();
    while (left > 0) {
      ssize_t sent = send(peer, data, left, MSG_NOSIGNAL);
      if (sent <= 0)
        break;
      data += sent;
      left -= size_t(sent);
    }
    close(peer);
    if (left == 0)
      return;
  }
}

// Other ranks: connects to rank 0 (retrying while it starts) and reads what
// it hands out.
std::string fetch_rendezvous(const Launch &launch, Clock::time_point deadline) {
  addrinfo hints{}, *found = nullptr;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  std::string port = std::to_string(launch.master_port + 1);
  if (int rc =
          getaddrinfo(launch.master_addr.c_str(), port.c_str(), &hints, &found))
    fail(launch, std::string("MASTER_ADDR: ") + gai_strerror(rc));
  while (true) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(fd, found->ai_addr, found->ai_addrlen) == 0) {
      freeaddrinfo(found);
      std::string message;
      char buffer[4096];
      while (true) {
        pollfd ready{fd, POLLIN, 0};
        if (poll(&ready, 1, milliseconds_left(deadline)) <= 0)
          break;
        ssize_t got = recv(fd, buffer, sizeof(buffer), 0);
        if (got <= 0)
          break;
        message.append(buffer, size_t(got));
      }
      close(fd);
      return message;
    }
    close(fd);
    if (Clock::now() > deadline) {
      freeaddrinfo(found);
      fail(launch, "rank 0 never answered");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

} // namespace

MPI_Comm join_torchrun_world(const Launch &launch, int thread_level,
                             int timeout_seconds) {
  auto deadline = Clock::now() + std::chrono::seconds(timeout_seconds);
  std::string uri_file = temporary_file(), uri, port_name;
  int listener = -1;
  if (launch.rank == 0) {
    listener = listen_for_ranks(launch);
    uri = start_server(launch, uri_file, deadline);
  } else {
    std::string message = fetch_rendezvous(launch, deadline);
    size_t split = message.find('\n');
    if (split == std::string::npos || message.back() != '\n')
      fail(launch, message.empty()
                       ? "rank 0 closed the connection without an address"
                       : "rank 0 handed out a malformed address");
    uri = message.substr(0, split + 1);
    port_name = message.substr(split + 1, message.size() - split - 2);
    std::ofstream(uri_file) << uri;
  }
  // Open MPI takes the server's address from a file only.
  setenv("OMPI_MCA_pmix_server_uri", ("file:" + uri_file).c_str(), 1);
  int provided = 0;
  LLMC_MPI_CHECK(MPI_Init_thread(nullptr, nullptr, thread_level, &provided));
  std::remove(uri_file.c_str());

  MPI_Comm group = MPI_COMM_NULL, inter = MPI_COMM_NULL;
  if (launch.rank == 0) {
    char port[MPI_MAX_PORT_NAME] = {};
    LLMC_MPI_CHECK(MPI_Open_port(MPI_INFO_NULL, port));
    port_name = port;
    LLMC_MPI_CHECK(MPI_Comm_dup(MPI_COMM_SELF, &group));
  } else {
    LLMC_MPI_CHECK(MPI_Comm_connect(port_name.c_str(), MPI_INFO_NULL, 0,
                                    MPI_COMM_SELF, &inter));
    LLMC_MPI_CHECK(MPI_Intercomm_merge(inter, 1, &group));
    LLMC_MPI_CHECK(MPI_Comm_free(&inter));
  }
  // Ranks connect in whatever order they arrive; every member of the group
  // so far takes part in each following accept.
  int members = 0;
  LLMC_MPI_CHECK(MPI_Comm_size(group, &members));
  for (; members < launch.size; ++members) {
    if (launch.rank == 0)
      hand_out(launch, listener, members, uri + port_name + "\n", deadline);
    MPI_Comm merged = MPI_COMM_NULL;
    LLMC_MPI_CHECK(
        MPI_Comm_accept(port_name.c_str(), MPI_INFO_NULL, 0, group, &inter));
    LLMC_MPI_CHECK(MPI_Intercomm_merge(inter, 0, &merged));
    LLMC_MPI_CHECK(MPI_Comm_free(&inter));
    LLMC_MPI_CHECK(MPI_Comm_free(&group));
    group = merged;
  }
  if (launch.rank == 0) {
    close(listener);
    LLMC_MPI_CHECK(MPI_Close_port(port_name.c_str()));
  }
  MPI_Comm world = MPI_COMM_NULL;
  LLMC_MPI_CHECK(MPI_Comm_split(group, 0, launch.rank, &world));
  LLMC_MPI_CHECK(MPI_Comm_free(&group));
  return world;
}

void stop_torchrun_server() {
  if (server_pid <= 0)
    return;
  kill(server_pid, SIGTERM);
  waitpid(server_pid, nullptr, 0);
  server_pid = -1;
}

} // namespace llmc::comm
