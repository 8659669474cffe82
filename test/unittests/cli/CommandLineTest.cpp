//===- CommandLineTest.cpp - llmc-run's option parser ---------------------===//
//
// The forms llvm::cl accepted (so `llmc train ...` reads as before it was
// handed to llmc-run), and one line for each kind of bad command line.
//
//===----------------------------------------------------------------------===//

#include "runtime/cli/command_line.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

using namespace llmc::cli;

namespace {

struct Flags {
  std::string plan, mode = "a", path;
  int64_t steps = 0;
  uint64_t seed = 7;
  float lr = 1.0f;
  double p = 1.0;
  bool flag = false;
  std::vector<int> ids;
};

Command make(Flags &f) {
  Command cmd("test", "A test command", "[options] <plan>");
  cmd.positional("<plan>", f.plan);
  cmd.option("steps", f.steps, "Steps").required();
  cmd.option("seed", f.seed, "Seed");
  cmd.option("lr", f.lr, "Rate");
  cmd.option("p", f.p, "Mass");
  cmd.option("flag", f.flag, "A flag");
  cmd.option("ids", f.ids, "Ids");
  cmd.option("mode", f.mode, "Mode").choices({{"a", "first"}, {"b", "second"}});
  cmd.option("path", f.path, "Path").meta("file").hidden();
  return cmd;
}

/// Parses `args` (after "prog test"); returns the error text or "".
std::string parse(Command &cmd, std::vector<std::string> args) {
  args.insert(args.begin(), {"prog", "test"});
  std::vector<char *> argv;
  for (std::string &a : args)
    argv.push_back(a.data());
  std::ostringstream out;
  try {
    cmd.parse(int(argv.size()), argv.data(), 2, out);
  } catch (const UsageError &e) {
    return e.what();
  }
  return "";
}

TEST(CommandLine, AcceptsTheFormsOfLlvmCl) {
  Flags f;
  Command cmd = make(f);
  EXPECT_EQ(parse(cmd, {"x.plan", "--steps=3", "-seed", "9", "--lr", "-1e-3",
                        "--flag", "--ids", "1,2", "--ids=3", "-mode=b",
                        "--path", "f"}),
            "");
  EXPECT_EQ(f.plan, "x.plan");
  EXPECT_EQ(f.steps, 3);
  EXPECT_EQ(f.seed, 9u);
  EXPECT_FLOAT_EQ(f.lr, -1e-3f);
  EXPECT_TRUE(f.flag);
  EXPECT_EQ(f.ids, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(f.mode, "b");
  EXPECT_EQ(f.path, "f");
  EXPECT_TRUE(cmd.given("seed"));
  EXPECT_FALSE(cmd.given("p"));
  EXPECT_EQ(f.p, 1.0); // the default stays
}

TEST(CommandLine, FlagsTakeTrueOrFalse) {
  Flags f;
  Command cmd = make(f);
  EXPECT_EQ(parse(cmd, {"x", "--steps", "1", "--flag=false"}), "");
  EXPECT_FALSE(f.flag);
  Flags g;
  Command other = make(g);
  EXPECT_EQ(parse(other, {"x", "--steps", "1", "--flag=maybe"}),
            "--flag 'maybe': expected true or false");
}

TEST(CommandLine, NanIsANumberForTheCommandToRefuse) {
  Flags f;
  Command cmd = make(f);
  EXPECT_EQ(parse(cmd, {"x", "--steps", "1", "--lr", "nan"}), "");
  EXPECT_TRUE(std::isnan(f.lr));
}

TEST(CommandLine, BadLinesSayWhatWasExpected) {
  struct Case {
    std::vector<std::string> args;
    const char *error;
  } cases[] = {
      {{"x", "--steps", "three"}, "--steps 'three': expected an integer"},
      {{"x", "--steps", "99999999999999999999"},
       "--steps '99999999999999999999': expected an integer"},
      {{"x", "--steps", "1", "--seed", "-1"},
       "--seed '-1': expected an unsigned integer"},
      {{"x", "--steps", "1", "--p", "1.5x"}, "-p '1.5x': expected a number"},
      {{"x", "--steps", "1", "--ids", "1,,2"}, "--ids '': expected an integer"},
      {{"x", "--steps", "1", "--mode", "c"}, "--mode 'c': expected a or b"},
      {{"x", "--steps"}, "--steps: expected a value"},
      {{"x"}, "llmc test: --steps is required"},
      {{"--steps", "1"}, "llmc test: expected <plan>"},
      {{"x", "y", "--steps", "1"}, "llmc test: unexpected argument 'y'"},
      {{"x", "--steps", "1", "--nope"},
       "llmc test: unknown option '--nope' (see llmc test --help)"},
      {{"x", "--steps", "1", "--steps", "2"},
       "--steps is given more than once"},
  };
  for (const Case &c : cases) {
    Flags f;
    Command cmd = make(f);
    EXPECT_EQ(parse(cmd, c.args), c.error) << c.args.back();
  }
}

TEST(CommandLine, TrailingPositionalsTakeTheRest) {
  std::string out, first;
  std::vector<std::string> inputs;
  Command cmd("merge", "Merge", "-o <out> <in>...");
  cmd.positional("<first>", first);
  cmd.positionals("<in>...", inputs);
  cmd.option("o", out, "Output").required();
  EXPECT_EQ(parse(cmd, {"a", "-o", "m.json", "b", "c"}), "");
  EXPECT_EQ(first, "a");
  EXPECT_EQ(out, "m.json");
  EXPECT_EQ(inputs, (std::vector<std::string>{"b", "c"}));
  std::vector<std::string> none;
  Command empty("merge", "Merge", "<in>...");
  empty.positionals("<in>...", none);
  EXPECT_EQ(parse(empty, {}), "llmc merge: expected <in>...");
}

TEST(CommandLine, HelpListsVisibleOptionsSortedWithChoices) {
  Flags f;
  Command cmd = make(f);
  std::string args[] = {"prog", "test", "--help"};
  char *argv[] = {args[0].data(), args[1].data(), args[2].data()};
  std::ostringstream out;
  EXPECT_FALSE(cmd.parse(3, argv, 2, out));
  std::string help = out.str();
  EXPECT_NE(help.find("USAGE: llmc test [options] <plan>"), std::string::npos);
  EXPECT_NE(help.find("--steps=<long>"), std::string::npos);
  EXPECT_NE(help.find("(required)"), std::string::npos);
  EXPECT_NE(help.find("=b"), std::string::npos);
  EXPECT_EQ(help.find("--path"), std::string::npos); // hidden
  EXPECT_LT(help.find("--flag"), help.find("--seed"));
}

} // namespace
