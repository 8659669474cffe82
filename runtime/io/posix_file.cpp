//===- posix_file.cpp - Thin checked wrappers over POSIX file calls -------===//

#include "runtime/io/posix_file.h"

#include "runtime/io/error.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

using namespace llmc::io;

void llmc::io::throw_errno(const std::string &path, const std::string &what) {
  throw InputError(path + ": " + what + ": " + std::strerror(errno));
}

PosixFile::PosixFile(const std::string &path, int flags, unsigned mode)
    : path_(path) {
  // Reading a FIFO would block in open(2) until something writes to it:
  // opened non-blocking, it fails size()'s regular-file check instead. For
  // regular files O_NONBLOCK changes nothing.
  if ((flags & O_ACCMODE) == O_RDONLY)
    flags |= O_NONBLOCK;
  do
    fd_ = ::open(path.c_str(), flags | O_CLOEXEC, static_cast<mode_t>(mode));
  while (fd_ < 0 && errno == EINTR);
  if (fd_ < 0)
    throw_errno(path, "cannot open");
}

PosixFile::~PosixFile() {
  if (fd_ >= 0)
    ::close(fd_);
}

PosixFile::PosixFile(PosixFile &&other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

PosixFile &PosixFile::operator=(PosixFile &&other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

uint64_t PosixFile::size() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0)
    throw_errno(path_, "cannot stat");
  if (!S_ISREG(st.st_mode))
    throw InputError(path_ + ": not a regular file (a folder, FIFO or "
                             "device); expected a file");
  return static_cast<uint64_t>(st.st_size);
}

void PosixFile::read_at(void *dst, size_t n, uint64_t offset) const {
  auto *p = static_cast<char *>(dst);
  while (n > 0) {
    ssize_t got = ::pread(fd_, p, n, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      throw_errno(path_, "read failed at byte " + std::to_string(offset));
    if (got == 0)
      throw InputError(path_ + ": unexpected end of file at byte " +
                       std::to_string(offset) + " (was it truncated?)");
    p += got;
    n -= static_cast<size_t>(got);
    offset += static_cast<uint64_t>(got);
  }
}

void PosixFile::write_all(const void *src, size_t n) {
  const auto *p = static_cast<const char *>(src);
  while (n > 0) {
    ssize_t put = ::write(fd_, p, n);
    if (put < 0 && errno == EINTR)
      continue;
    if (put < 0)
      throw_errno(path_, "write failed");
    p += put;
    n -= static_cast<size_t>(put);
  }
}

void PosixFile::sync() {
  if (::fsync(fd_) != 0)
    throw_errno(path_, "fsync failed");
}

void PosixFile::close() {
  int fd = std::exchange(fd_, -1);
  if (fd >= 0 && ::close(fd) != 0)
    throw_errno(path_, "close failed");
}

void llmc::io::write_file_atomically(const std::string &path,
                                     const std::string &bytes) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  try {
    PosixFile out(tmp, O_WRONLY | O_CREAT | O_TRUNC);
    out.write_all(bytes.data(), bytes.size());
    out.sync();
    out.close();
    if (::rename(tmp.c_str(), path.c_str()) != 0)
      throw_errno(path, "cannot rename " + tmp + " over it");
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  sync_directory(directory_of(path));
}

std::string llmc::io::directory_of(const std::string &path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string llmc::io::read_file(const std::string &path,
                                const std::string &what) {
  auto fail = [&](const std::string &why) -> llmc::io::InputError {
    return llmc::io::InputError(path + ": cannot read " + what + ": " + why);
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw fail(std::string(std::strerror(errno)));
  std::string text;
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
    text.reserve(static_cast<size_t>(st.st_size));
  char buffer[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      std::string why = std::string(std::strerror(errno));
      ::close(fd);
      throw fail(why);
    }
    if (n == 0)
      break;
    text.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

void llmc::io::sync_directory(const std::string &dir) {
  PosixFile d(dir, O_RDONLY | O_DIRECTORY);
  if (::fsync(d.fd()) != 0 && errno != EINVAL)
    throw_errno(dir, "fsync of the directory failed");
}

void llmc::io::copy_file(const std::string &from, const std::string &to) {
  PosixFile in(from, O_RDONLY);
  PosixFile out(to, O_WRONLY | O_CREAT | O_TRUNC);
  std::string chunk(size_t(1) << 20, '\0');
  uint64_t size = in.size();
  for (uint64_t at = 0; at < size;) {
    size_t n = size_t(std::min<uint64_t>(chunk.size(), size - at));
    in.read_at(chunk.data(), n, at);
    out.write_all(chunk.data(), n);
    at += n;
  }
  out.sync();
  out.close();
}
