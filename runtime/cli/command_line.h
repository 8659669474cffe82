//===- command_line.h - Options of the runtime's commands, without LLVM ---===//
//
// llmc-run links no LLVM, so its commands (train, eval, init, explain,
// verify, generate, serve) declare their options here instead of with
// llvm::cl. The syntax is the one llvm::cl accepts, so `llmc train ...`
// reads the same forwarded: `--name=value`, `--name value`, one dash or two,
// `--flag` and `--flag=true|false`, comma-separated lists that may repeat,
// and positionals in order. A bad command line throws UsageError, one line
// naming the option and what was expected.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_CLI_COMMAND_LINE_H
#define LLMC_RUNTIME_CLI_COMMAND_LINE_H

#include "runtime/io/error.h"

#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <variant>
#include <vector>

namespace llmc::cli {

/// A command line that cannot be run; the command prints it, exits 2.
class UsageError : public io::InputError {
public:
  using io::InputError::InputError;
};

class Command {
public:
  /// `usage` is what follows the command's name in the help's USAGE line.
  Command(std::string name, std::string summary, std::string usage);

  /// A required positional argument, named in help and errors as `meta`.
  Command &positional(std::string meta, std::string &out);

  /// Positional arguments after the others, named `meta`: one or more, or
  /// any number when not `required`.
  Command &positionals(std::string meta, std::vector<std::string> &out,
                       bool required = true);

  /// An option; `out` holds its default until the command line sets it.
  Command &option(std::string name, std::string &out, std::string help);
  Command &option(std::string name, int64_t &out, std::string help);
  Command &option(std::string name, int &out, std::string help);
  Command &option(std::string name, uint64_t &out, std::string help);
  Command &option(std::string name, double &out, std::string help);
  Command &option(std::string name, float &out, std::string help);
  /// A flag: present means true.
  Command &option(std::string name, bool &out, std::string help);
  /// Comma-separated integers; repeating the option appends.
  Command &option(std::string name, std::vector<int> &out, std::string help);

  /// Modifiers of the option declared last.
  Command &required();
  Command &hidden();
  /// The values a string option may take, each with what it means.
  Command &choices(std::initializer_list<std::pair<const char *, const char *>>
                       valuesAndHelp);
  /// The placeholder of the value in help (--load=<path>).
  Command &meta(std::string placeholder);

  /// Reads argv[first..argc). Returns false when --help was asked for (the
  /// help is then printed to `out`); throws UsageError on a bad line.
  bool parse(int argc, char **argv, int first, std::ostream &out);

  /// Whether the command line gave the option (not just its default).
  bool given(const std::string &name) const;

  void printHelp(std::ostream &out) const;
  const std::string &name() const { return name_; }
  const std::string &summary() const { return summary_; }

private:
  using Target = std::variant<std::string *, int64_t *, int *, uint64_t *,
                              double *, float *, bool *, std::vector<int> *>;
  struct Option {
    std::string name, help, meta;
    Target target;
    bool required = false, hidden = false;
    std::vector<std::pair<std::string, std::string>> choices;
    int occurrences = 0;
  };
  struct Positional {
    std::string meta;
    std::string *out;
  };

  Command &add(std::string name, Target target, std::string help,
               std::string meta);
  Option *find(const std::string &name);
  const Option *find(const std::string &name) const;
  void set(Option &option, const std::string &value);

  std::string name_, summary_, usage_;
  std::vector<Option> options_;
  std::vector<Positional> positionals_;
  std::vector<std::string> *rest_ = nullptr; // positionals(): the others
  bool rest_required_ = true;
  std::string rest_meta_;
};

} // namespace llmc::cli

#endif // LLMC_RUNTIME_CLI_COMMAND_LINE_H
