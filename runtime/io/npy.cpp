#include "runtime/io/npy.h"

#include "runtime/io/error.h"

#include <cstring>
#include <fstream>
#include <sstream>

namespace llmc::io {
namespace {

[[noreturn]] void bad(const std::string &path, const std::string &what) {
  throw InputError(path + ": " + what);
}

/// The value of 'key' in the header's Python dict literal, as text.
std::string field(const std::string &header, const std::string &key,
                  const std::string &path) {
  size_t at = header.find("'" + key + "'");
  if (at == std::string::npos)
    bad(path, "the .npy header has no '" + key + "'");
  size_t colon = header.find(':', at);
  if (colon == std::string::npos)
    bad(path, "the .npy header is not a dict");
  size_t begin = header.find_first_not_of(' ', colon + 1);
  size_t end = header[begin] == '(' ? header.find(')', begin) + 1
                                    : header.find_first_of(",}", begin);
  if (begin == std::string::npos || end == std::string::npos)
    bad(path, "the .npy header is not a dict");
  return header.substr(begin, end - begin);
}

} // namespace

NpyArray read_npy(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    bad(path, "cannot open");
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    bad(path, "not a .npy file (no \\x93NUMPY magic)");
  uint32_t header_len = 0;
  unsigned char len[4] = {};
  if (magic[6] == 1) {
    if (!in.read(reinterpret_cast<char *>(len), 2))
      bad(path, "truncated header");
    header_len = len[0] | len[1] << 8;
  } else if (magic[6] == 2 || magic[6] == 3) {
    if (!in.read(reinterpret_cast<char *>(len), 4))
      bad(path, "truncated header");
    header_len = len[0] | len[1] << 8 | len[2] << 16 | uint32_t(len[3]) << 24;
  } else {
    bad(path, "unknown .npy format version " + std::to_string(magic[6]));
  }
  if (header_len > (1u << 20))
    bad(path, "a .npy header of more than 1 MiB");
  std::string header(header_len, '\0');
  if (!in.read(header.data(), header_len))
    bad(path, "truncated header");
  std::string descr = field(header, "descr", path);
  if (descr != "'<f4'" && descr != "'<i4'" && descr != "'<i8'")
    bad(path, "dtype " + descr +
                  "; expected float32 ('<f4'), or int32 or "
                  "int64 ids");
  if (field(header, "fortran_order", path) != "False")
    bad(path, "Fortran order; expected a C-order array");
  std::string shape_text = field(header, "shape", path);
  NpyArray array;
  int64_t n = 1;
  std::stringstream dims(shape_text.substr(1, shape_text.size() - 2));
  std::string dim;
  while (std::getline(dims, dim, ',')) {
    if (dim.find_first_not_of(' ') == std::string::npos)
      continue;
    int64_t d = 0;
    try {
      d = std::stoll(dim);
    } catch (const std::exception &) {
      bad(path, "shape " + shape_text + " is not a tuple of sizes");
    }
    if (d < 0 || (d > 0 && n > (int64_t(1) << 40) / d))
      bad(path, "shape " + shape_text + " is out of range");
    array.shape.push_back(d);
    n *= d;
  }
  auto read = [&](void *dst, size_t bytes) {
    if (!in.read(static_cast<char *>(dst), std::streamsize(bytes)))
      bad(path, "holds fewer than the " + std::to_string(n) +
                    " elements of its shape " + shape_text);
  };
  if (descr == "'<f4'") {
    array.data.resize(n);
    read(array.data.data(), n * sizeof(float));
  } else if (descr == "'<i8'") {
    array.integer = true;
    array.ints.resize(n);
    read(array.ints.data(), n * sizeof(int64_t));
  } else {
    array.integer = true;
    std::vector<int32_t> narrow(n);
    read(narrow.data(), n * sizeof(int32_t));
    array.ints.assign(narrow.begin(), narrow.end());
  }
  return array;
}

void write_npy(const std::string &path, const std::vector<int64_t> &shape,
               const float *data) {
  std::string dims;
  int64_t n = 1;
  for (int64_t d : shape) {
    dims += std::to_string(d) + ", ";
    n *= d;
  }
  if (shape.size() > 1)
    dims.resize(dims.size() - 1); // (3, 4) but (3,)
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                       (shape.empty() ? std::string() : dims) + "), }";
  // Magic, version, length and header padded with spaces to 64 bytes.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  if (!out)
    bad(path, "cannot create");
  out.write("\x93NUMPY\x01\x00", 8);
  char len[2] = {char(header.size() & 0xff), char(header.size() >> 8)};
  out.write(len, 2);
  out.write(header.data(), std::streamsize(header.size()));
  out.write(reinterpret_cast<const char *>(data),
            std::streamsize(n * sizeof(float)));
  if (!out)
    bad(path, "write failed");
}

} // namespace llmc::io
