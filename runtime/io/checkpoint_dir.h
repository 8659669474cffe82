//===- checkpoint_dir.h - Checkpoints as one atomic folder ----------------===//
//
// A training run saves into a run folder:
//
//   run/step-000500/model.safetensors      Hugging Face weights
//   run/step-000500/optimizer.safetensors  AdamW's moments
//   run/step-000500/master.safetensors     fp32 weights, when model's are bf16
//   run/step-000500/manifest.json          step, data position, checksums
//   run/step-000500/config.json            the model's HF config
//   run/step-000500/tokenizer.model        when training was given one
//   run/latest                             "step-000500"
//
// A step folder is written under a temporary name, fsynced, and renamed in
// place whole; `latest` is replaced atomically after it. A kill at any
// moment therefore leaves `latest` naming a complete step folder (or no
// `latest` at all), never weights paired with another step's moments.
// Reading checks the manifest against the files (sizes and CRC-32s), so a
// folder whose parts disagree is refused rather than trained on.
//
// Plain C++17 and POSIX; no MLIR, no MPI. The caller decides which rank
// writes (the leader) and agrees on the outcome.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_IO_CHECKPOINT_DIR_H
#define LLMC_RUNTIME_IO_CHECKPOINT_DIR_H

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace llmc::io {

inline constexpr const char *kWeightsFile = "model.safetensors";
inline constexpr const char *kOptimizerFile = "optimizer.safetensors";
// The fp32 weights, where model.safetensors holds them in bf16 (llmc train
// --save-dtype bf16): what a resume loads, so it continues exactly.
inline constexpr const char *kMasterWeightsFile = "master.safetensors";
inline constexpr const char *kManifestFile = "manifest.json";
inline constexpr const char *kLatestFile = "latest";
// Beside the weights, as in a Hugging Face model folder.
inline constexpr const char *kConfigFile = "config.json";
// The tokenizer files a step folder may hold (data::Tokenizer::files()):
// sentencepiece's model, or GPT-2's BPE as tokenizer.json or as
// vocab.json + merges.txt.
inline constexpr const char *kTokenizerFiles[] = {
    "tokenizer.model", "tokenizer.json", "vocab.json", "merges.txt"};

/// One file of a step folder as the manifest records it.
struct FileDigest {
  uint64_t bytes = 0;
  uint32_t crc32 = 0;
};

/// What a run needs besides the tensors to continue exactly: the step, and
/// the data position (which batch comes next depends on the step, the
/// token file, the global batch, the order and its seed).
struct CheckpointManifest {
  int64_t step = 0;
  int64_t data_tokens = 0;     // tokens in the training file
  int64_t tokens_per_step = 0; // global batch rows x sequence length
  std::string data_order;      // "sequential" or "shuffled"
  uint64_t seed = 0;           // of the initial weights and shuffled order
  /// The learning-rate schedule the run was started with, for the record.
  std::map<std::string, std::string> schedule;
  std::map<std::string, FileDigest> files; // by name in the step folder
};

/// "step-000500": zero-padded so folders sort by step.
std::string step_folder_name(int64_t step);

/// Creates `run_dir` if missing (its parent must exist) and an empty
/// temporary step folder in it ("run/.step-000500.tmp.<pid>"); returns the
/// temporary folder's path, into which the caller writes its files.
std::string begin_checkpoint(const std::string &run_dir, int64_t step);

/// Completes a checkpoint begun with begin_checkpoint: records the size and
/// CRC-32 of `files` (names in `tmp_dir`) in the manifest, writes it, syncs
/// the folder, renames it to its step name (replacing an older folder of the
/// same step atomically), points `latest` at it, and removes all but the
/// `keep_last` newest step folders at or below this step (0: keep all).
void publish_checkpoint(const std::string &run_dir, const std::string &tmp_dir,
                        CheckpointManifest manifest,
                        const std::vector<std::string> &files,
                        int64_t keep_last);

/// Removes temporary step folders a killed run left in `run_dir`.
void remove_stale_checkpoints(const std::string &run_dir);

/// Why `run_dir` cannot take checkpoints (one line), or "".
std::string unwritable_run_dir_reason(const std::string &run_dir);

/// A checkpoint found from what the user passed to --load or --weights.
struct CheckpointRef {
  std::string folder;  // the step folder; empty for a bare weights file
  std::string weights; // the Hugging Face weights
  std::optional<CheckpointManifest> manifest; // none for a bare file
  std::string optimizer() const { return folder + "/" + kOptimizerFile; }
  /// A file of the step folder the manifest lists ("" when it lists none).
  std::string part(const char *name) const {
    return manifest && manifest->files.count(name) ? folder + "/" + name : "";
  }
};

/// Whether `path` holds a checkpoint: a run folder with `latest`, a step
/// folder with a manifest, or a plain safetensors file.
bool has_checkpoint(const std::string &path);

/// Resolves `path`: a safetensors file (weights only), a step folder, or a
/// run folder (its `latest`). Reads the manifest and checks that the files
/// it lists exist with their recorded sizes, and with `verify_checksums`
/// their CRC-32s; `weights_only` checks the weights alone. Throws
/// InputError naming the file and what disagrees.
CheckpointRef open_checkpoint(const std::string &path, bool weights_only,
                              bool verify_checksums);

/// A Hugging Face config.json's text with "torch_dtype" set to `dtype`
/// ("bfloat16"): the dtype transformers loads the weights in.
std::string with_torch_dtype(const std::string &config_json,
                             const std::string &dtype);

/// CRC-32 (zlib's polynomial) of a whole file.
FileDigest digest_file(const std::string &path);

} // namespace llmc::io

#endif // LLMC_RUNTIME_IO_CHECKPOINT_DIR_H
