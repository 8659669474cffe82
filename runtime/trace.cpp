// Chrome trace JSON; see trace.h.
#include "runtime/trace.h"

#include "runtime/io/posix_file.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <utility>
#include <vector>

namespace llmc {

void write_chrome_trace(const std::string &path,
                        const std::vector<const planfile::Plan *> &plans,
                        const std::vector<TraceEvent> &events, int rank) {
  std::ostringstream json;
  json << "{\"displayTimeUnit\": \"ms\", \"traceEvents\": [\n";
  json << "{\"name\": \"process_name\", \"ph\": \"M\", \"pid\": " << rank
       << ", \"args\": {\"name\": \"rank " << rank << "\"}}";
  char line[512];
  for (const TraceEvent &e : events) {
    if (e.kernel < 0) { // a pipeline stage's p2p or microbatch program
      bool program = e.name[0] == 'F' || e.name[0] == 'B';
      std::snprintf(line, sizeof(line),
                    ",\n{\"name\": \"%s\", \"cat\": \"%s\", \"ph\": \"X\", "
                    "\"pid\": %d, \"tid\": %d, \"ts\": %.3f, \"dur\": %.3f, "
                    "\"args\": {\"step\": %lld}}",
                    e.name.c_str(), program ? "microbatch" : "p2p", rank,
                    program ? 1 : 0, 1e6 * e.start, 1e6 * (e.end - e.start),
                    (long long)e.step);
      json << line;
      continue;
    }
    const planfile::Kernel &k = plans[size_t(e.plan)]->kernels(e.kernel);
    std::snprintf(line, sizeof(line),
                  ",\n{\"name\": \"%s\", \"cat\": \"%s\", \"ph\": \"X\", "
                  "\"pid\": %d, \"tid\": 0, \"ts\": %.3f, \"dur\": %.3f, "
                  "\"args\": {\"step\": %lld, \"layer\": %d, \"kernel\": %d}}",
                  k.name().c_str(), k.role().empty() ? "forward" : k.role().c_str(),
                  rank, 1e6 * e.start, 1e6 * (e.end - e.start),
                  (long long)e.step, k.layer(), e.kernel);
    json << line;
  }
  json << "\n]}\n";
  io::write_file_atomically(path, json.str());
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
