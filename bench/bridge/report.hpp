// What one run of shmrec-bridge-bench measured, the ratios issue 12 names, their targets: a
// table on stdout and a JSON file (the spirit of shmrec-bench's results.json: one object per
// figure, named by case and metric, with its unit).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bridge_runs.hpp"
#include "ddsperf.hpp"

namespace bridge_bench {

struct Setup {
    std::string machine;
    std::string load_before;  // /proc/loadavg when the run started
    std::string load_after;
    double seconds = 0;                 // the whole run
    std::uint64_t capacity = 0;         // of A's broadcasts
    std::uint64_t import_capacity = 0;  // of B's
    std::uint32_t batch = 0;            // the exporter's --batch
    std::size_t batch_payload = 0;      // ddsperf's second payload size: a full batch's bytes
    double step_seconds = 0;
    unsigned latency_rate = 0;  // records/s (and ddsperf pings/s) of the latency runs
    double latency_seconds = 0;
};

struct Measurements {
    std::optional<DdsperfThroughput> ddsperf_small;             // 32-byte samples
    std::optional<DdsperfThroughput> ddsperf_batch;             // samples of a full batch's bytes
    std::optional<DdsperfRoundTrip> ddsperf_rtt_paced;          // at the latency run's rate
    std::optional<DdsperfRoundTrip> ddsperf_rtt_paced_waitset;  // the same, taken by a waitset
    std::optional<DdsperfRoundTrip> ddsperf_rtt_back_to_back;
    std::vector<RunResult> steps;  // throughput, by offered rate
    // Timed runs at a low rate: bridged, and local (a reader on A, no bridge), with the
    // exporter and the reader each sleeping or polling (plan.exporter_wait, plan.reader_wait).
    std::vector<RunResult> latency_runs;
    std::vector<std::string> failures;  // what could not be measured, and why
};

// A latency run's name in the JSON ("bridge-latency", "local-latency", then "-busy-spin" for a
// polling exporter, "-reader-busy-spin" for a polling reader) and in the text.
std::string latency_case(const RunPlan& plan);
std::string latency_title(const RunPlan& plan);

void print_report(const Setup& setup, const Measurements& m);
void write_json(const std::string& path, const Setup& setup, const Measurements& m);

}  // namespace bridge_bench
