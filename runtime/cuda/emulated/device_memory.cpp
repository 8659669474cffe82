#include "runtime/cuda/emulated/device_memory.h"

#include <map>
#include <sys/mman.h>
#include <unistd.h>

namespace llmc::cuda::emulated {
namespace {

std::map<void *, size_t> &regions() {
  static std::map<void *, size_t> all; // start -> mapped bytes
  return all;
}
int open_works = 0;

void protect(void *start, size_t bytes, bool open) {
  mprotect(start, bytes, open ? PROT_READ | PROT_WRITE : PROT_NONE);
}

} // namespace

void *allocate_device(size_t bytes) {
  size_t page = size_t(sysconf(_SC_PAGESIZE));
  size_t mapped = (bytes + page - 1) / page * page;
  if (mapped == 0)
    mapped = page;
  void *memory = mmap(nullptr, mapped, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED)
    return nullptr;
  regions()[memory] = mapped;
  protect(memory, mapped, open_works > 0);
  return memory;
}

bool free_device(void *memory) {
  auto it = regions().find(memory);
  if (it == regions().end())
    return false;
  munmap(it->first, it->second);
  regions().erase(it);
  return true;
}

DeviceWork::DeviceWork() {
  if (open_works++ == 0)
    for (auto &[start, bytes] : regions())
      protect(start, bytes, true);
}

DeviceWork::~DeviceWork() {
  if (--open_works == 0)
    for (auto &[start, bytes] : regions())
      protect(start, bytes, false);
}

} // namespace llmc::cuda::emulated
