//===- checkpoint_dir.cpp - Checkpoints as one atomic folder --------------===//

#include "runtime/io/checkpoint_dir.h"

#include "runtime/io/error.h"
#include "runtime/io/posix_file.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

namespace fs = std::filesystem;
using nlohmann::json;

namespace llmc::io {
namespace {

bool is_directory(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool exists(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

/// The step of a folder named "step-000500", or -1 for any other name.
int64_t step_of_folder(const std::string &name) {
  if (name.rfind("step-", 0) != 0 || name.size() == 5 || name.size() > 24)
    return -1;
  int64_t step = 0;
  for (char c : name.substr(5)) {
    if (c < '0' || c > '9')
      return -1;
    step = step * 10 + (c - '0');
  }
  return step;
}

std::string read_small_file(const std::string &path, uint64_t limit) {
  PosixFile in(path, O_RDONLY);
  uint64_t size = in.size();
  if (size > limit)
    throw InputError(path + ": " + std::to_string(size) +
                     " bytes; expected at most " + std::to_string(limit));
  std::string text(size_t(size), '\0');
  in.read_at(text.data(), text.size(), 0);
  return text;
}

json manifest_to_json(const CheckpointManifest &m) {
  json files = json::object();
  for (const auto &[name, digest] : m.files)
    files[name] = {{"bytes", digest.bytes}, {"crc32", digest.crc32}};
  return {{"format", "llmc-checkpoint"},
          {"version", 1},
          {"step", m.step},
          {"data",
           {{"tokens", m.data_tokens},
            {"tokens_per_step", m.tokens_per_step},
            {"order", m.data_order},
            {"seed", m.seed}}},
          {"schedule", m.schedule},
          {"files", files}};
}

CheckpointManifest read_manifest(const std::string &path) {
  std::string text = read_small_file(path, 1 << 20);
  CheckpointManifest m;
  try {
    json j = json::parse(text);
    if (j.value("format", "") != "llmc-checkpoint" ||
        j.value("version", 0) != 1)
      throw InputError(path +
                       ": not an llmc checkpoint manifest (expected "
                       "\"format\": \"llmc-checkpoint\", \"version\": 1)");
    m.step = j.at("step").get<int64_t>();
    if (m.step < 0)
      throw InputError(path + ": field 'step' is negative");
    const json &data = j.at("data");
    m.data_tokens = data.at("tokens").get<int64_t>();
    m.tokens_per_step = data.at("tokens_per_step").get<int64_t>();
    m.data_order = data.at("order").get<std::string>();
    m.seed = data.at("seed").get<uint64_t>();
    if (j.contains("schedule"))
      m.schedule = j.at("schedule").get<std::map<std::string, std::string>>();
    for (const auto &[name, digest] : j.at("files").items())
      m.files[name] = {digest.at("bytes").get<uint64_t>(),
                       digest.at("crc32").get<uint32_t>()};
  } catch (const json::exception &e) {
    throw InputError(path + ": not a valid checkpoint manifest: " + e.what());
  }
  return m;
}

void check_file(const std::string &folder, const CheckpointManifest &m,
                const std::string &name, bool verify_checksum) {
  std::string path = folder + "/" + name;
  auto listed = m.files.find(name);
  if (listed == m.files.end())
    throw InputError(folder + "/" + kManifestFile + ": lists no " + name);
  if (!exists(path))
    throw InputError(path + ": missing (the manifest lists it; the "
                            "checkpoint is incomplete)");
  FileDigest want = listed->second;
  if (!verify_checksum) {
    PosixFile f(path, O_RDONLY);
    if (f.size() != want.bytes)
      throw InputError(path + ": " + std::to_string(f.size()) +
                       " bytes; the manifest records " +
                       std::to_string(want.bytes));
    return;
  }
  FileDigest got = digest_file(path);
  if (got.bytes != want.bytes || got.crc32 != want.crc32)
    throw InputError(path + ": does not match the manifest (" +
                     std::to_string(got.bytes) + " bytes, CRC-32 " +
                     std::to_string(got.crc32) + "; recorded " +
                     std::to_string(want.bytes) + " bytes, CRC-32 " +
                     std::to_string(want.crc32) + ")");
}

} // namespace

std::string step_folder_name(int64_t step) {
  char name[32];
  std::snprintf(name, sizeof(name), "step-%06lld", (long long)step);
  return name;
}

std::string with_torch_dtype(const std::string &config_json,
                             const std::string &dtype) {
  // ordered_json keeps the config's own order of fields.
  nlohmann::ordered_json config =
      nlohmann::ordered_json::parse(config_json, nullptr, false);
  if (!config.is_object())
    throw InputError("config.json: the model's config is not a JSON object");
  config["torch_dtype"] = dtype;
  return config.dump(2) + "\n";
}

FileDigest digest_file(const std::string &path) {
  PosixFile in(path, O_RDONLY);
  FileDigest d;
  d.bytes = in.size();
  std::vector<unsigned char> chunk(size_t(4) << 20);
  uLong crc = crc32_z(0L, Z_NULL, 0);
  for (uint64_t at = 0; at < d.bytes;) {
    size_t n = size_t(std::min<uint64_t>(chunk.size(), d.bytes - at));
    in.read_at(chunk.data(), n, at);
    crc = crc32_z(crc, chunk.data(), n);
    at += n;
  }
  d.crc32 = uint32_t(crc);
  return d;
}

std::string unwritable_run_dir_reason(const std::string &run_dir) {
  struct stat st;
  if (::stat(run_dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode))
      return run_dir + ": not a folder; --save takes a folder, which gets "
                       "one step-NNNNNN/ folder per checkpoint";
    if (::access(run_dir.c_str(), W_OK | X_OK) != 0)
      return run_dir + ": cannot write into it: " + std::strerror(errno);
    return "";
  }
  std::string parent = directory_of(run_dir);
  if (!is_directory(parent))
    return run_dir + ": cannot create it: " + parent + " is not a folder";
  if (::access(parent.c_str(), W_OK | X_OK) != 0)
    return run_dir + ": cannot create it in " + parent + ": " +
           std::strerror(errno);
  return "";
}

std::string begin_checkpoint(const std::string &run_dir, int64_t step) {
  if (::mkdir(run_dir.c_str(), 0755) != 0 && errno != EEXIST)
    throw_errno(run_dir, "cannot create the checkpoint folder");
  std::string tmp = run_dir + "/." + step_folder_name(step) + ".tmp." +
                    std::to_string(::getpid());
  std::error_code ignored;
  fs::remove_all(tmp, ignored);
  if (::mkdir(tmp.c_str(), 0755) != 0)
    throw_errno(tmp, "cannot create the checkpoint folder");
  return tmp;
}

void publish_checkpoint(const std::string &run_dir, const std::string &tmp_dir,
                        CheckpointManifest manifest,
                        const std::vector<std::string> &files,
                        int64_t keep_last) {
  // The tensor files were fsynced as they were written; the manifest makes
  // the folder complete, and its checksums let a reader prove it.
  for (const std::string &name : files)
    manifest.files[name] = digest_file(tmp_dir + "/" + name);
  write_file_atomically(tmp_dir + "/" + kManifestFile,
                        manifest_to_json(manifest).dump(2) + "\n");

  std::string name = step_folder_name(manifest.step);
  std::string final_dir = run_dir + "/" + name;
  if (is_directory(final_dir)) {
    // A run resumed from an earlier step saves this step again: swap the
    // folders in one step, so the name never stands empty, then drop the
    // old one (now under the temporary name).
    if (::renameat2(AT_FDCWD, tmp_dir.c_str(), AT_FDCWD, final_dir.c_str(),
                    RENAME_EXCHANGE) != 0)
      throw_errno(final_dir, "cannot replace it with " + tmp_dir);
    std::error_code ignored;
    fs::remove_all(tmp_dir, ignored);
  } else if (::rename(tmp_dir.c_str(), final_dir.c_str()) != 0) {
    throw_errno(final_dir, "cannot rename " + tmp_dir + " to it");
  }
  sync_directory(run_dir);
  write_file_atomically(run_dir + "/" + kLatestFile, name + "\n");

  if (keep_last <= 0)
    return;
  // Steps above this one belong to a run this one was resumed before; they
  // are replaced as this run reaches them, never pruned from under it.
  std::vector<int64_t> older;
  for (const auto &entry : fs::directory_iterator(run_dir)) {
    int64_t step = step_of_folder(entry.path().filename().string());
    if (step >= 0 && step <= manifest.step && entry.is_directory())
      older.push_back(step);
  }
  std::sort(older.rbegin(), older.rend());
  for (size_t i = size_t(keep_last); i < older.size(); ++i)
    fs::remove_all(run_dir + "/" + step_folder_name(older[i]));
}

void remove_stale_checkpoints(const std::string &run_dir) {
  if (!is_directory(run_dir))
    return;
  for (const auto &entry : fs::directory_iterator(run_dir)) {
    std::string name = entry.path().filename().string();
    bool step_tmp =
        name.rfind(".step-", 0) == 0 && name.find(".tmp.") != std::string::npos;
    bool latest_tmp = name.rfind(std::string(kLatestFile) + ".tmp.", 0) == 0;
    if (step_tmp || latest_tmp)
      fs::remove_all(entry.path());
  }
}

bool has_checkpoint(const std::string &path) {
  if (!exists(path))
    return false;
  if (!is_directory(path))
    return true;
  return exists(path + "/" + kLatestFile) || exists(path + "/" + kManifestFile);
}

CheckpointRef open_checkpoint(const std::string &path, bool weights_only,
                              bool verify_checksums) {
  if (!exists(path))
    throw InputError(path + ": no such checkpoint (expected a safetensors "
                            "file, a step-NNNNNN folder or a run folder with "
                            "'latest')");
  CheckpointRef ref;
  if (!is_directory(path)) {
    ref.weights = path;
    return ref;
  }
  ref.folder = path;
  std::string latest = path + "/" + kLatestFile;
  if (exists(latest)) {
    std::string name = read_small_file(latest, 64);
    while (!name.empty() && (name.back() == '\n' || name.back() == ' '))
      name.pop_back();
    if (step_of_folder(name) < 0)
      throw InputError(latest +
                       ": expected the name of a step folder "
                       "(step-NNNNNN), got '" +
                       name + "'");
    ref.folder = path + "/" + name;
    if (!is_directory(ref.folder))
      throw InputError(latest + ": names " + name + ", which is missing");
  } else if (!exists(path + "/" + kManifestFile)) {
    throw InputError(path + ": holds no checkpoint (no 'latest' and no " +
                     kManifestFile + ")");
  }
  ref.manifest = read_manifest(ref.folder + "/" + kManifestFile);
  ref.weights = ref.folder + "/" + kWeightsFile;
  check_file(ref.folder, *ref.manifest, kWeightsFile, verify_checksums);
  if (weights_only)
    return ref;
  if (!ref.manifest->files.count(kOptimizerFile))
    throw InputError(ref.folder +
                     ": holds no optimizer state; pass "
                     "--weights-only to start a new run from its weights");
  check_file(ref.folder, *ref.manifest, kOptimizerFile, verify_checksums);
  return ref;
}

} // namespace llmc::io
