//===- command_line.cpp - Options of the runtime's commands ---------------===//

#include "runtime/cli/command_line.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace llmc::cli {
namespace {

[[noreturn]] void usage(const std::string &message) {
  throw UsageError(message);
}

/// How an option is written: -o, --steps.
std::string dashed(const std::string &name) {
  return (name.size() == 1 ? "-" : "--") + name;
}

/// "--name 'text': expected WHAT".
[[noreturn]] void badValue(const std::string &name, const std::string &text,
                           const char *expected) {
  usage(dashed(name) + " '" + text + "': expected " + expected);
}

int64_t parseInteger(const std::string &name, const std::string &text,
                     int64_t lo, int64_t hi) {
  errno = 0;
  char *end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 0);
  if (text.empty() || *end != '\0' || errno == ERANGE || v < lo || v > hi)
    badValue(name, text, "an integer");
  return v;
}

double parseNumber(const std::string &name, const std::string &text) {
  char *end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0')
    badValue(name, text, "a number");
  return v;
}

} // namespace

Command::Command(std::string name, std::string summary, std::string usage)
    : name_(std::move(name)), summary_(std::move(summary)),
      usage_(std::move(usage)) {}

Command &Command::positionals(std::string meta, std::vector<std::string> &out,
                              bool required) {
  rest_meta_ = std::move(meta);
  rest_ = &out;
  rest_required_ = required;
  return *this;
}

Command &Command::positional(std::string meta, std::string &out) {
  positionals_.push_back({std::move(meta), &out});
  return *this;
}

Command &Command::add(std::string name, Target target, std::string help,
                      std::string meta) {
  options_.push_back(
      {std::move(name), std::move(help), std::move(meta), target});
  return *this;
}

Command &Command::option(std::string name, std::string &out, std::string help) {
  return add(std::move(name), &out, std::move(help), "<string>");
}
Command &Command::option(std::string name, int64_t &out, std::string help) {
  return add(std::move(name), &out, std::move(help), "<long>");
}
Command &Command::option(std::string name, int &out, std::string help) {
  return add(std::move(name), &out, std::move(help), "<int>");
}
Command &Command::option(std::string name, uint64_t &out, std::string help) {
  return add(std::move(name), &out, std::move(help), "<ulong>");
}
Command &Command::option(std::string name, double &out, std::string help) {
  return add(std::move(name), &out, std::move(help), "<number>");
}
Command &Command::option(std::string name, float &out, std::string help) {
  return add(std::move(name), &out, std::move(help), "<number>");
}
Command &Command::option(std::string name, bool &out, std::string help) {
  return add(std::move(name), &out, std::move(help), "");
}
Command &Command::option(std::string name, std::vector<int> &out,
                         std::string help) {
  return add(std::move(name), &out, std::move(help), "<int>,...");
}

Command &Command::required() {
  options_.back().required = true;
  return *this;
}
Command &Command::hidden() {
  options_.back().hidden = true;
  return *this;
}
Command &Command::meta(std::string placeholder) {
  options_.back().meta = "<" + placeholder + ">";
  return *this;
}
Command &Command::choices(
    std::initializer_list<std::pair<const char *, const char *>> values) {
  Option &o = options_.back();
  o.meta = "<value>";
  for (const auto &[value, help] : values)
    o.choices.emplace_back(value, help);
  return *this;
}

Command::Option *Command::find(const std::string &name) {
  for (Option &o : options_)
    if (o.name == name)
      return &o;
  return nullptr;
}
const Command::Option *Command::find(const std::string &name) const {
  return const_cast<Command *>(this)->find(name);
}

bool Command::given(const std::string &name) const {
  const Option *o = find(name);
  return o && o->occurrences > 0;
}

void Command::set(Option &o, const std::string &text) {
  if (!o.choices.empty() &&
      std::none_of(o.choices.begin(), o.choices.end(),
                   [&](const auto &c) { return c.first == text; })) {
    std::string names;
    for (size_t i = 0; i < o.choices.size(); ++i)
      names += (i == 0                      ? ""
                : i + 1 == o.choices.size() ? " or "
                                            : ", ") +
               o.choices[i].first;
    usage(dashed(o.name) + " '" + text + "': expected " + names);
  }
  const std::string &n = o.name;
  std::visit(
      [&](auto *out) {
        using T = std::remove_pointer_t<decltype(out)>;
        if constexpr (std::is_same_v<T, std::string>) {
          *out = text;
        } else if constexpr (std::is_same_v<T, int64_t>) {
          *out = parseInteger(n, text, std::numeric_limits<int64_t>::min(),
                              std::numeric_limits<int64_t>::max());
        } else if constexpr (std::is_same_v<T, int>) {
          *out = int(parseInteger(n, text, std::numeric_limits<int>::min(),
                                  std::numeric_limits<int>::max()));
        } else if constexpr (std::is_same_v<T, uint64_t>) {
          errno = 0;
          char *end = nullptr;
          unsigned long long v = std::strtoull(text.c_str(), &end, 0);
          if (text.empty() || text[0] == '-' || *end != '\0' || errno == ERANGE)
            badValue(n, text, "an unsigned integer");
          *out = v;
        } else if constexpr (std::is_same_v<T, double>) {
          *out = parseNumber(n, text);
        } else if constexpr (std::is_same_v<T, float>) {
          *out = float(parseNumber(n, text));
        } else if constexpr (std::is_same_v<T, bool>) {
          if (text == "true" || text == "1")
            *out = true;
          else if (text == "false" || text == "0")
            *out = false;
          else
            badValue(n, text, "true or false");
        } else {
          size_t start = 0;
          while (start <= text.size()) {
            size_t comma = std::min(text.find(',', start), text.size());
            out->push_back(
                int(parseInteger(n, text.substr(start, comma - start),
                                 std::numeric_limits<int>::min(),
                                 std::numeric_limits<int>::max())));
            start = comma + 1;
          }
        }
      },
      o.target);
  ++o.occurrences;
}

bool Command::parse(int argc, char **argv, int first, std::ostream &out) {
  size_t nextPositional = 0;
  bool optionsEnded = false;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (!optionsEnded && arg == "--") {
      optionsEnded = true;
      continue;
    }
    if (optionsEnded || arg.size() < 2 || arg[0] != '-') {
      if (nextPositional < positionals_.size())
        *positionals_[nextPositional++].out = arg;
      else if (rest_)
        rest_->push_back(arg);
      else
        usage("llmc " + name_ + ": unexpected argument '" + arg + "'");
      continue;
    }
    std::string body = arg.substr(arg[1] == '-' ? 2 : 1);
    std::string name = body, value;
    size_t eq = body.find('=');
    bool hasValue = eq != std::string::npos;
    if (hasValue)
      name = body.substr(0, eq), value = body.substr(eq + 1);
    if (name == "help" || name == "h") {
      printHelp(out);
      return false;
    }
    Option *o = find(name);
    if (!o)
      usage("llmc " + name_ + ": unknown option '" + arg + "' (see llmc " +
            name_ + " --help)");
    bool isFlag = std::holds_alternative<bool *>(o->target);
    if (!hasValue && !isFlag) {
      if (i + 1 >= argc)
        usage(dashed(name) + ": expected a value");
      value = argv[++i];
      hasValue = true;
    }
    if (o->occurrences > 0 &&
        !std::holds_alternative<std::vector<int> *>(o->target))
      usage(dashed(name) + " is given more than once");
    set(*o, hasValue ? value : "true");
  }
  if (nextPositional < positionals_.size())
    usage("llmc " + name_ + ": expected " + positionals_[nextPositional].meta);
  if (rest_ && rest_required_ && rest_->empty())
    usage("llmc " + name_ + ": expected " + rest_meta_);
  for (const Option &o : options_)
    if (o.required && o.occurrences == 0)
      usage("llmc " + name_ + ": " + dashed(o.name) + " is required");
  return true;
}

void Command::printHelp(std::ostream &out) const {
  out << "OVERVIEW: " << summary_ << "\n\nUSAGE: llmc " << name_ << " "
      << usage_ << "\n\nOPTIONS:\n";
  std::vector<const Option *> shown;
  for (const Option &o : options_)
    if (!o.hidden)
      shown.push_back(&o);
  std::sort(shown.begin(), shown.end(),
            [](const Option *a, const Option *b) { return a->name < b->name; });
  auto line = [&](const std::string &left, const std::string &help) {
    out << "  " << left;
    for (size_t n = left.size(); n < 30; ++n)
      out << ' ';
    out << " - " << help << "\n";
  };
  for (const Option *o : shown) {
    std::string left = dashed(o->name) + (o->meta.empty() ? "" : "=" + o->meta);
    line(left, o->help + (o->required ? " (required)" : ""));
    for (const auto &[value, help] : o->choices)
      line("    =" + value, "  " + help);
  }
  line("--help", "Show this help");
}

} // namespace llmc::cli
