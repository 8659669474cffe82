// Chrome trace JSON; see trace.h.
#include "runtime/trace.h"

#include "runtime/io/error.h"
#include "runtime/io/posix_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <utility>
#include <vector>

namespace llmc {

void write_chrome_trace(const std::string &path,
                        const std::vector<const planfile::Plan *> &plans,
                        const std::vector<TraceEvent> &events, int rank) {
  using nlohmann::ordered_json;
  // Microseconds, to the nanosecond the clock resolves.
  auto us = [](double seconds) { return std::round(1e9 * seconds) / 1e3; };
  ordered_json list = ordered_json::array();
  list.push_back({{"name", "process_name"},
                  {"ph", "M"},
                  {"pid", rank},
                  {"args", {{"name", "rank " + std::to_string(rank)}}}});
  for (const TraceEvent &e : events) {
    ordered_json event;
    if (e.kernel < 0) { // a pipeline stage's p2p or microbatch program
      bool program = e.name[0] == 'F' || e.name[0] == 'B';
      event = {{"name", e.name},
               {"cat", program ? "microbatch" : "p2p"},
               {"ph", "X"},
               {"pid", rank},
               {"tid", program ? 1 : 0},
               {"ts", us(e.start)},
               {"dur", us(e.end - e.start)},
               {"args", {{"step", e.step}}}};
    } else {
      const planfile::Kernel &k = plans[size_t(e.plan)]->kernels(e.kernel);
      event = {
          {"name", k.name()},
          {"cat", k.role().empty() ? "forward" : k.role()},
          {"ph", "X"},
          {"pid", rank},
          {"tid", 0},
          {"ts", us(e.start)},
          {"dur", us(e.end - e.start)},
          {"args",
           {{"step", e.step}, {"layer", k.layer()}, {"kernel", e.kernel}}}};
    }
    list.push_back(std::move(event));
  }
  ordered_json trace{{"displayTimeUnit", "ms"}, {"traceEvents", list}};
  io::write_file_atomically(path, trace.dump(1) + "\n");
}

void merge_chrome_traces(const std::vector<std::string> &inputs,
                         const std::string &output) {
  using nlohmann::ordered_json;
  ordered_json merged = ordered_json::array();
  std::set<int64_t> used;
  for (const std::string &path : inputs) {
    ordered_json trace =
        ordered_json::parse(io::read_file(path, "the trace"), nullptr, false);
    if (trace.is_discarded() || !trace.is_object() ||
        !trace.contains("traceEvents") || !trace["traceEvents"].is_array())
      throw io::InputError(path + ": not a Chrome trace (expected a JSON "
                                  "object with a \"traceEvents\" array)");
    std::set<int64_t> mine;
    for (const ordered_json &e : trace["traceEvents"])
      if (e.is_object() && e.contains("pid") && e["pid"].is_number_integer())
        mine.insert(e["pid"].get<int64_t>());
    // Process ids already taken move past every id seen so far.
    std::map<int64_t, int64_t> renumber;
    int64_t next = used.empty() ? 0 : *used.rbegin() + 1;
    for (int64_t pid : mine)
      renumber[pid] = used.count(pid) ? next++ : pid;
    for (ordered_json &e : trace["traceEvents"]) {
      if (e.is_object() && e.contains("pid") && e["pid"].is_number_integer())
        e["pid"] = renumber[e["pid"].get<int64_t>()];
      merged.push_back(std::move(e));
    }
    for (auto &[from, to] : renumber)
      used.insert(to);
  }
  ordered_json trace{{"displayTimeUnit", "ms"}, {"traceEvents", merged}};
  io::write_file_atomically(output, trace.dump(1) + "\n");
}

void merge_rank_traces(const std::string &path, int ranks) {
  std::vector<std::string> inputs;
  for (int r = 0; r < ranks; ++r)
    inputs.push_back(trace_path_of_rank(path, r, ranks));
  try {
    merge_chrome_traces(inputs, path);
  } catch (const io::InputError &e) {
    std::fprintf(stderr,
                 "llmc: traces stay per rank (%s); merge them on one machine "
                 "with llmc trace-merge -o %s %s ...\n",
                 e.what(), path.c_str(), inputs[0].c_str());
  }
}

double trace_clock() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string trace_path_of_rank(const std::string &path, int rank, int ranks) {
  if (ranks <= 1)
    return path;
  std::string suffix = ".rank" + std::to_string(rank);
  size_t dot = path.rfind('.');
  size_t slash = path.rfind('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash))
    return path + suffix;
  return path.substr(0, dot) + suffix + path.substr(dot);
}

void print_profile(const std::map<std::string, double> &seconds, int64_t units,
                   const char *unit) {
  std::vector<std::pair<double, std::string>> rows;
  double total = 0.0;
  for (const auto &[name, s] : seconds) {
    rows.push_back({s, name});
    total += s;
  }
  std::sort(rows.rbegin(), rows.rend());
  std::string header = std::string("ms/") + unit;
  std::fprintf(stderr, "%-24s %12s %7s\n", "kernel", header.c_str(), "share");
  for (const auto &[s, name] : rows)
    std::fprintf(stderr, "%-24s %12.3f %6.1f%%\n", name.c_str(),
                 1e3 * s / double(std::max<int64_t>(units, 1)),
                 100.0 * s / total);
}

} // namespace llmc
