//===- posix_file.h - Thin checked wrappers over POSIX file calls ---------===//
//
// Used by runtime/io (safetensors, token files, checkpoint folders).
// Every failure becomes an InputError that names the path and carries
// strerror(errno); short reads and EINTR are handled here so the format code
// never sees them.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_IO_POSIX_FILE_H
#define LLMC_RUNTIME_IO_POSIX_FILE_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace llmc::io {

/// An owned file descriptor, closed on destruction.
class PosixFile {
public:
  PosixFile() = default;
  /// open(2) with `flags` (O_CLOEXEC added); throws "<path>: cannot open: ...".
  PosixFile(const std::string &path, int flags, unsigned mode = 0644);
  ~PosixFile();
  PosixFile(PosixFile &&other) noexcept;
  PosixFile &operator=(PosixFile &&other) noexcept;
  PosixFile(const PosixFile &) = delete;
  PosixFile &operator=(const PosixFile &) = delete;

  int fd() const { return fd_; }
  const std::string &path() const { return path_; }
  uint64_t size() const;
  /// Reads exactly n bytes at `offset`; a short read (the file shrank) throws.
  void read_at(void *dst, size_t n, uint64_t offset) const;
  /// Writes all n bytes at the current position.
  void write_all(const void *src, size_t n);
  void sync();
  /// close(2), reporting its error (deferred write errors surface here).
  void close();

private:
  int fd_ = -1;
  std::string path_;
};

/// "<path>: <what>: <strerror(errno)>", for the errno of the failed call.
[[noreturn]] void throw_errno(const std::string &path, const std::string &what);

/// The folder that holds `path`: "." for a bare name, "/" for "/name".
std::string directory_of(const std::string &path);

/// fsync(2) of a folder, which makes the renames and creations in it
/// durable. Filesystems that cannot sync a folder (EINVAL) are let be.
void sync_directory(const std::string &dir);

/// Writes `bytes` to "<path>.tmp.<pid>", fsyncs it and renames it over
/// `path` (and syncs the folder), so readers see the old file or the whole
/// new one, never a part, even after a power cut.
void write_file_atomically(const std::string &path, const std::string &bytes);

/// The whole file; throws InputError "<path>: cannot read <what>:
/// <strerror>" (`what` says what the file is, e.g. "the corpus").
std::string read_file(const std::string &path, const std::string &what);

/// Copies the file `from` to `to` (written and fsynced, not atomically:
/// into a folder that is renamed in place whole afterwards).
void copy_file(const std::string &from, const std::string &to);

} // namespace llmc::io

#endif // LLMC_RUNTIME_IO_POSIX_FILE_H
