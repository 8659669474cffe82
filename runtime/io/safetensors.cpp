//===- safetensors.cpp - Read and write Hugging Face safetensors files ----===//
//
// The reader validates the whole header before handing out anything; the
// writer builds the header by hand so its layout (metadata first, tensors by
// name, space padding) is fixed and byte-for-byte reproducible.
//
//===----------------------------------------------------------------------===//

#include "runtime/io/safetensors.h"

#include "runtime/cpu/bf16.h"
#include "runtime/io/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <set>
#include <stdexcept>
#include <unistd.h>

using namespace llmc::io;
using json = nlohmann::json;

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian; the reader and writer copy "
              "it as is");

// The reference implementation's limit; a larger length means the file is
// not safetensors at all.
static constexpr uint64_t kMaxHeaderSize = 100'000'000;

const char *llmc::io::dtype_name(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "F32";
  case DType::F16:
    return "F16";
  case DType::BF16:
    return "BF16";
  }
  return "?";
}

size_t llmc::io::dtype_size(DType dtype) { return dtype == DType::F32 ? 4 : 2; }

//===----------------------------------------------------------------------===//
// Conversions to float32
//===----------------------------------------------------------------------===//

static float bits_to_float(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

static float f16_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1Fu, mant = h & 0x3FFu;
  if (exp == 0x1F) // inf and NaN keep their payload
    return bits_to_float(sign | 0x7F800000u | (mant << 13));
  if (exp != 0) // normal: rebias 15 -> 127
    return bits_to_float(sign | ((exp + 112) << 23) | (mant << 13));
  float f = std::ldexp(static_cast<float>(mant), -24); // zero or subnormal
  return sign ? -f : f;
}

//===----------------------------------------------------------------------===//
// Header parsing
//===----------------------------------------------------------------------===//

static std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\r', ' ');
  return s;
}

static uint64_t read_le64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}

namespace {
/// Builds messages "<path>: tensor '<name>': <what>".
struct EntryError {
  const std::string &path;
  const std::string &name;
  [[noreturn]] void operator()(const std::string &what) const {
    throw InputError(path + ": tensor '" + name + "': " + what);
  }
};
} // namespace

static DType parse_dtype(const json &entry, const EntryError &fail) {
  if (!entry.contains("dtype"))
    fail("missing field 'dtype'");
  if (!entry["dtype"].is_string())
    fail("field 'dtype' is not a string");
  std::string d = entry["dtype"].get<std::string>();
  if (d == "F32")
    return DType::F32;
  if (d == "F16")
    return DType::F16;
  if (d == "BF16")
    return DType::BF16;
  fail("dtype '" + d + "' is not supported; expected F32, F16 or BF16");
}

static std::vector<int64_t> parse_shape(const json &entry,
                                        const EntryError &fail) {
  if (!entry.contains("shape"))
    fail("missing field 'shape'");
  const json &s = entry["shape"];
  if (!s.is_array())
    fail("field 'shape' is not an array");
  std::vector<int64_t> shape;
  for (const json &d : s) {
    if (!d.is_number_unsigned() ||
        d.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      fail("field 'shape' is " + one_line(s.dump()) +
           ", expected non-negative integers");
    shape.push_back(d.get<int64_t>());
  }
  return shape;
}

static std::pair<uint64_t, uint64_t> parse_offsets(const json &entry,
                                                   const EntryError &fail) {
  if (!entry.contains("data_offsets"))
    fail("missing field 'data_offsets'");
  const json &o = entry["data_offsets"];
  if (!o.is_array() || o.size() != 2 || !o[0].is_number_unsigned() ||
      !o[1].is_number_unsigned() || o[0].get<uint64_t>() > o[1].get<uint64_t>())
    fail("field 'data_offsets' is " + one_line(o.dump()) +
         ", expected [begin, end] with 0 <= begin <= end");
  return {o[0].get<uint64_t>(), o[1].get<uint64_t>()};
}

static TensorInfo parse_entry(const std::string &path, const std::string &name,
                              const json &entry, uint64_t data_size) {
  EntryError fail{path, name};
  if (!entry.is_object())
    fail("expected an object with dtype, shape and data_offsets");
  TensorInfo t;
  t.name = name;
  t.dtype = parse_dtype(entry, fail);
  t.shape = parse_shape(entry, fail);
  std::tie(t.begin, t.end) = parse_offsets(entry, fail);
  t.numel = checked_numel(t.shape, path + ": tensor '" + name + "'");
  if (static_cast<uint64_t>(t.numel) > UINT64_MAX / dtype_size(t.dtype))
    fail("shape " + format_shape(t.shape) + " is too large");
  uint64_t bytes = static_cast<uint64_t>(t.numel) * dtype_size(t.dtype);
  if (bytes != t.end - t.begin)
    fail("shape " + format_shape(t.shape) + " of " + dtype_name(t.dtype) +
         " needs " + std::to_string(bytes) + " bytes but data_offsets [" +
         std::to_string(t.begin) + ", " + std::to_string(t.end) + "] hold " +
         std::to_string(t.end - t.begin));
  if (t.end > data_size)
    fail("data_offsets [" + std::to_string(t.begin) + ", " +
         std::to_string(t.end) + "] run past the " + std::to_string(data_size) +
         "-byte data buffer");
  return t;
}

static std::map<std::string, std::string>
parse_metadata(const std::string &path, const json &m) {
  if (!m.is_object())
    throw InputError(path + ": __metadata__ is not an object of strings");
  std::map<std::string, std::string> out;
  for (auto it = m.begin(); it != m.end(); ++it) {
    if (!it.value().is_string())
      throw InputError(path + ": __metadata__ field '" + it.key() +
                       "' is not a string");
    out[it.key()] = it.value().get<std::string>();
  }
  return out;
}

/// Parses the JSON, rejecting duplicate top-level keys (nlohmann would keep
/// the last one silently).
static json parse_json(const std::string &path, const std::string &header) {
  std::set<std::string> seen;
  std::string duplicate;
  json::parser_callback_t note_keys = [&](int depth, json::parse_event_t event,
                                          json &parsed) {
    if (depth == 1 && event == json::parse_event_t::key &&
        !seen.insert(parsed.get<std::string>()).second && duplicate.empty())
      duplicate = parsed.get<std::string>();
    return true;
  };
  json j;
  try {
    j = json::parse(header, note_keys);
  } catch (const json::exception &e) {
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " tag.
    if (size_t tag = what.find("] ");
        what.rfind("[json.", 0) == 0 && tag != std::string::npos)
      what = what.substr(tag + 2);
    throw InputError(path + ": header is not valid JSON: " + one_line(what));
  }
  if (!j.is_object())
    throw InputError(path + ": header is " + std::string(j.type_name()) +
                     ", expected a JSON object");
  if (!duplicate.empty())
    throw InputError(path + ": header lists '" + duplicate + "' twice");
  return j;
}

void SafetensorsReader::parse_header(const std::string &header,
                                     uint64_t data_size) {
  json j = parse_json(path(), header);
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "__metadata__")
      metadata_ = parse_metadata(path(), it.value());
    else
      tensors_.push_back(parse_entry(path(), it.key(), it.value(), data_size));
  }
  // Overlap check in data order; empty tensors occupy nothing.
  std::vector<const TensorInfo *> by_offset;
  for (const TensorInfo &t : tensors_)
    if (t.begin != t.end)
      by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](auto *a, auto *b) { return a->begin < b->begin; });
  auto range = [](const TensorInfo *t) {
    return "[" + std::to_string(t->begin) + ", " + std::to_string(t->end) + "]";
  };
  for (size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i]->begin < by_offset[i - 1]->end)
      throw InputError(path() + ": tensors '" + by_offset[i - 1]->name + "' " +
                       range(by_offset[i - 1]) + " and '" + by_offset[i]->name +
                       "' " + range(by_offset[i]) + " overlap");
  std::sort(tensors_.begin(), tensors_.end(),
            [](const auto &a, const auto &b) { return a.name < b.name; });
}

//===----------------------------------------------------------------------===//
// Reader
//===----------------------------------------------------------------------===//

SafetensorsReader::SafetensorsReader(const std::string &path)
    : file_(path, O_RDONLY) {
  uint64_t size = file_.size();
  if (size < 8)
    throw InputError(path + ": file is " + std::to_string(size) +
                     " bytes, too short for the 8-byte safetensors header "
                     "length");
  unsigned char len[8];
  file_.read_at(len, 8, 0);
  uint64_t n = read_le64(len);
  if (n > size - 8)
    throw InputError(path + ": header length " + std::to_string(n) +
                     " runs past the end of the " + std::to_string(size) +
                     "-byte file; not a safetensors file?");
  if (n > kMaxHeaderSize)
    throw InputError(path + ": header length " + std::to_string(n) +
                     " exceeds the limit of " + std::to_string(kMaxHeaderSize) +
                     " bytes");
  std::string header(n, '\0');
  file_.read_at(header.data(), n, 8);
  data_start_ = 8 + n;
  parse_header(header, size - data_start_);
}

bool SafetensorsReader::contains(const std::string &name) const {
  auto it = std::lower_bound(
      tensors_.begin(), tensors_.end(), name,
      [](const TensorInfo &t, const std::string &n) { return t.name < n; });
  return it != tensors_.end() && it->name == name;
}

const TensorInfo &SafetensorsReader::info(const std::string &name) const {
  auto it = std::lower_bound(
      tensors_.begin(), tensors_.end(), name,
      [](const TensorInfo &t, const std::string &n) { return t.name < n; });
  if (it == tensors_.end() || it->name != name)
    throw InputError(path() + ": no tensor '" + name + "'");
  return *it;
}

void SafetensorsReader::read(const std::string &name, float *dst) const {
  const TensorInfo &t = info(name);
  uint64_t at = data_start_ + t.begin;
  if (t.dtype == DType::F32) {
    file_.read_at(dst, t.end - t.begin, at);
    return;
  }
  // Half formats: convert in chunks to bound the staging buffer.
  constexpr int64_t kChunk = 1 << 20;
  std::vector<uint16_t> staging(
      static_cast<size_t>(std::min<int64_t>(t.numel, kChunk)));
  for (int64_t done = 0; done < t.numel; done += kChunk) {
    int64_t n = std::min(kChunk, t.numel - done);
    file_.read_at(staging.data(), static_cast<size_t>(n) * 2,
                  at + static_cast<uint64_t>(done) * 2);
    for (int64_t i = 0; i < n; ++i)
      dst[done + i] = t.dtype == DType::F16 ? f16_to_float(staging[i])
                                            : cpu::from_bf16(staging[i]);
  }
}

std::vector<float> SafetensorsReader::read(const std::string &name) const {
  std::vector<float> v(static_cast<size_t>(info(name).numel));
  read(name, v.data());
  return v;
}

void SafetensorsReader::check_against(
    const std::vector<TensorSpec> &expected,
    const std::function<bool(const TensorInfo &)> &ignore) const {
  std::vector<std::string> missing, unexpected, wrong_shape;
  std::set<std::string> known;
  for (const TensorSpec &e : expected) {
    known.insert(e.name);
    if (!contains(e.name))
      missing.push_back("missing '" + e.name + "' " + format_shape(e.shape));
    else if (const TensorInfo &t = info(e.name); t.shape != e.shape)
      wrong_shape.push_back("'" + e.name + "' has shape " +
                            format_shape(t.shape) + ", expected " +
                            format_shape(e.shape));
  }
  for (const TensorInfo &t : tensors_)
    if (!known.count(t.name) && !(ignore && ignore(t)))
      unexpected.push_back("unexpected '" + t.name + "' " +
                           format_shape(t.shape));
  size_t count = missing.size() + unexpected.size() + wrong_shape.size();
  if (count == 0)
    return;
  // A few are listed; a long list is summarised (another model's checkpoint
  // lists every tensor of both).
  constexpr size_t kListed = 6;
  std::string msg = path() + ": " + std::to_string(count) +
                    (count == 1 ? " mismatch" : " mismatches") +
                    " with the model";
  if (count > kListed)
    msg += " (" + std::to_string(missing.size()) + " missing, " +
           std::to_string(unexpected.size()) + " unexpected, " +
           std::to_string(wrong_shape.size()) + " of another shape)";
  msg += ": ";
  // The first of each kind, then the rest in order, up to kListed.
  std::vector<const std::string *> shown;
  for (const auto *list : {&missing, &unexpected, &wrong_shape})
    if (!list->empty())
      shown.push_back(&list->front());
  for (const auto *list : {&missing, &unexpected, &wrong_shape})
    for (size_t i = 1; i < list->size(); ++i)
      shown.push_back(&(*list)[i]);
  shown.resize(std::min(shown.size(), kListed));
  const char *sep = "";
  for (const std::string *item : shown) {
    msg += sep + *item;
    sep = "; ";
  }
  if (count > shown.size())
    msg += "; and " + std::to_string(count - shown.size()) + " more";
  if (2 * missing.size() > expected.size() && !unexpected.empty())
    msg += " (it holds another model's tensors: compile the plan from that "
           "model's config, or load weights of this one)";
  throw InputError(msg);
}

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

/// The header JSON, padded with spaces to a multiple of 8 bytes. `order` lists
/// the tensors sorted by name; their data follows in that order.
static std::string build_header(const std::string &path,
                                const std::vector<TensorView> &tensors,
                                const std::vector<size_t> &order,
                                std::map<std::string, std::string> metadata,
                                DType dtype) {
  metadata.emplace("format", "pt");
  std::string h = "{\"__metadata__\":";
  try {
    h += json(metadata).dump();
    uint64_t offset = 0;
    for (size_t i : order) {
      const TensorView &t = tensors[i];
      uint64_t bytes = static_cast<uint64_t>(checked_numel(t.shape, path)) *
                       dtype_size(dtype);
      h += "," + json(t.name).dump() + ":{\"dtype\":\"" + dtype_name(dtype) +
           "\",\"shape\":" + json(t.shape).dump() + ",\"data_offsets\":[" +
           std::to_string(offset) + "," + std::to_string(offset + bytes) + "]}";
      offset += bytes;
    }
  } catch (const json::exception &e) {
    throw InputError(path +
                     ": cannot encode the header: " + one_line(e.what()));
  }
  h += "}";
  h.append((8 - h.size() % 8) % 8, ' ');
  return h;
}

static void check_views(const std::string &path,
                        const std::vector<TensorView> &tensors,
                        const std::vector<size_t> &order) {
  for (size_t k = 0; k < order.size(); ++k) {
    const TensorView &t = tensors[order[k]];
    if (t.name == "__metadata__")
      throw InputError(path + ": '__metadata__' cannot name a tensor");
    if (k > 0 && tensors[order[k - 1]].name == t.name)
      throw InputError(path + ": tensor '" + t.name + "' is given twice");
    int64_t n = checked_numel(t.shape, path + ": tensor '" + t.name + "'");
    if (n > 0 && t.data == nullptr)
      throw InputError(path + ": tensor '" + t.name + "' has no data");
  }
}

static void write_file(PosixFile &out, const std::string &header,
                       const std::vector<TensorView> &tensors,
                       const std::vector<size_t> &order, DType dtype) {
  unsigned char len[8];
  for (int i = 0; i < 8; ++i)
    len[i] = static_cast<unsigned char>(static_cast<uint64_t>(header.size()) >>
                                        (8 * i));
  out.write_all(len, 8);
  out.write_all(header.data(), header.size());
  std::vector<uint16_t> rounded; // bf16: one slice of a tensor at a time
  for (size_t i : order) {
    const TensorView &t = tensors[i];
    size_t n = static_cast<size_t>(checked_numel(t.shape, t.name));
    if (dtype == DType::F32) {
      if (n)
        out.write_all(t.data, n * sizeof(float));
      continue;
    }
    constexpr size_t kSlice = size_t(1) << 20;
    for (size_t first = 0; first < n; first += kSlice) {
      size_t count = std::min(kSlice, n - first);
      rounded.resize(count);
      for (size_t k = 0; k < count; ++k)
        rounded[k] = llmc::cpu::to_bf16(t.data[first + k]);
      out.write_all(rounded.data(), count * sizeof(uint16_t));
    }
  }
  out.sync();
  out.close();
}

void llmc::io::write_safetensors(
    const std::string &path, const std::vector<TensorView> &tensors,
    const std::map<std::string, std::string> &metadata, DType dtype) {
  if (dtype == DType::F16)
    throw std::logic_error("write_safetensors: F16 is read, not written");
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return tensors[a].name < tensors[b].name;
  });
  check_views(path, tensors, order);
  std::string header = build_header(path, tensors, order, metadata, dtype);

  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  try {
    PosixFile out(tmp, O_WRONLY | O_CREAT | O_TRUNC);
    write_file(out, header, tensors, order, dtype);
    if (::rename(tmp.c_str(), path.c_str()) != 0)
      throw_errno(path, "cannot rename " + tmp + " over it");
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  // Make the rename itself durable.
  sync_directory(directory_of(path));
}
