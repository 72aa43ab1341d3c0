// shmrec-bridge-bench (`make bench-bridge`): shmrec-bridge against Cyclone DDS's own ddsperf,
// in one run of about 100 s, on two simulated hosts (tests/bridge/two_hosts.hpp:
// two network namespaces joined by a veth pair, a private /dev/shm each), for the targets of
// issue 12.
//
// What it measures, in this order:
//   1. ddsperf (Debian cyclonedds-tools) A → B, reliable keep-all: `pub size 32` as fast as it
//      goes against `sub` (samples/s), the same with samples of a full bridge batch's bytes
//      (what the veth and Cyclone carry in large samples), and `ping` / `pong` of 32 bytes at
//      the bridge latency runs' rate (taken in ddsperf's default listener, and in a thread
//      woken by a waitset, as the bridge's exporter and a sleeping reader on B are woken) and
//      back to back (round-trip percentiles). The target divides by the first, Cyclone's own
//      best at that rate.
//   2. The bridge's throughput: for each offered rate (default 0.5, 1, 1.5, 2, 3, 4, 6 M/s),
//      a writer on A paced at that rate for a few seconds into a fresh broadcast (capacity
//      65536: a few tens of ms of slack, so a slow exporter shows as loss, not as a backlog),
//      `shmrec-bridge export` on A, `shmrec-bridge import` on B into a region of 2^19 (32 MiB
//      of B's 64 MiB tmpfs: half a second of slack at 1 M/s for B's reader, which is part of
//      the benchmark and must not be what loses), and that reader checking the ids. A step is
//      lossless when every record was imported on B (the exporter's "lost at the source" 0,
//      the importer's "missing" 0) and none came out of order. The lossless rate is the
//      rate offered (the writer kept to it) in the highest step that, with every step
//      below it, was lossless (on a noisy machine a lossy step below a lossless one
//      happens: the highest lossless step is printed too).
//   3. The bridge's latency at a low rate (default 1000 records/s for 5 s): A's writer and
//      B's reader log each record's steady-clock time per id into files (the namespaces share
//      CLOCK_MONOTONIC), so the one-way latency needs nothing in the record itself. Four runs:
//      the exporter (`export --wait`) and B's reader each sleeping on their doorbell (futex)
//      or polling (busy_spin). Then the same writer with a reader on A and no bridge, sleeping
//      and polling: what a local reader sees, so that bridged - local (with the same reader)
//      is the latency the bridge adds.
// Then a table of the figures and the ratios of the three targets (the latency one
// for each of the four bridged runs), each with its target, and
// a JSON file (--json). Targets are read, not asserted: the exit status is 0 when everything
// was measured, 1 when something could not be, 2 when the run cannot start here (needs root,
// network namespaces, ddsperf), 130 when interrupted. Namespaces, mounts and children are
// removed on every exit path (interrupt.hpp).
//
//   make bench-bridge                                 as root: builds it, runs it, writes
//                                                     build/bench/bridge-results.json
//   shmrec-bridge-bench --rates 1,2 --json out.json   the options: --help
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "bridge_runs.hpp"
#include "ddsperf.hpp"
#include "interrupt.hpp"
#include "report.hpp"
#include "two_hosts.hpp"

namespace bridge_bench {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

enum ExitStatus : int { exit_ok = 0, exit_failed = 1, exit_cannot_run = 2, exit_interrupted = 130 };

struct Options {
    Programs programs{SHMREC_BRIDGE_BENCH_BRIDGE, SHMREC_BRIDGE_BENCH_PEER};
    std::string json = "bridge-results.json";
    std::vector<double> rates_m{0.5, 1, 1.5, 2, 3, 4, 6};  // M records/s
    double step_seconds = 3;
    std::uint64_t capacity = 65536;
    std::uint64_t import_capacity = std::uint64_t{1} << 19;
    std::uint32_t batch = 1024;
    unsigned latency_rate = 1000;
    double latency_seconds = 5;
    unsigned ddsperf_seconds = 8;
};

std::string first_line_of(const std::string& path, const std::string& key = "") {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        if (key.empty()) return line;
        if (line.rfind(key, 0) == 0) return line.substr(line.find(':') + 2);
    }
    return "?";
}

std::string machine() {
    utsname u{};
    ::uname(&u);
    return fmt::format("{}, {} CPUs, Linux {}", first_line_of("/proc/cpuinfo", "model name"),
                       std::thread::hardware_concurrency(), u.release);
}

bool on_path(const std::string& program) {
    std::istringstream path(std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
    for (std::string dir; std::getline(path, dir, ':');) {
        if (::access((std::filesystem::path(dir) / program).c_str(), X_OK) == 0) return true;
    }
    return false;
}

// Why the benchmark cannot run here; nullopt when it can.
std::optional<std::string> cannot_run(const Options& o) {
    if (auto why = shmrec_bridge_test::TwoHosts::unavailable()) return *why;
    if (!on_path("ddsperf")) return "ddsperf is not installed (Debian: cyclonedds-tools)";
    for (const auto& program : {o.programs.bridge, o.programs.peer}) {
        if (::access(program.c_str(), X_OK) != 0) return program + " is not there (build it)";
    }
    return std::nullopt;
}

// Runs one measurement; a failure is recorded and the run goes on (an interruption ends it).
void attempt(Measurements& m, const std::string& what, const std::function<void()>& measure) {
    fmt::print("  {} ...\n", what);
    std::fflush(stdout);
    try {
        measure();
    } catch (const Interrupted&) {
        throw;
    } catch (const std::exception& e) {
        fmt::print(stderr, "shmrec-bridge-bench: {} failed: {}\n", what, e.what());
        m.failures.push_back(what + ": " + e.what());
    }
}

// A directory of this run's own for the latency run's timing files, removed at the end.
struct WorkDirectory {
    std::filesystem::path path = std::filesystem::temp_directory_path() /
                                 ("shmrec-bridge-bench-" + std::to_string(::getpid()));
    WorkDirectory() { std::filesystem::create_directories(path); }
    ~WorkDirectory() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
};

RunPlan plan_of(const Options& o, const std::string& name, double rate, double seconds) {
    RunPlan plan;
    plan.name = name;
    plan.rate = rate;
    plan.count = static_cast<std::uint64_t>(rate * seconds);
    plan.capacity = o.capacity;
    plan.import_capacity = o.import_capacity;
    plan.batch = o.batch;
    return plan;
}

Measurements measure(const Options& o, const shmrec_bridge_test::TwoHosts& hosts,
                     const std::filesystem::path& work) {
    Measurements m;
    const auto dds_time = std::chrono::seconds(o.ddsperf_seconds);
    const std::size_t batch_bytes = std::size_t{o.batch} * 32;
    attempt(m, "ddsperf throughput, 32-byte samples",
            [&] { m.ddsperf_small = ddsperf_throughput(hosts, 32, dds_time); });
    attempt(m, fmt::format("ddsperf throughput, {}-byte samples", batch_bytes),
            [&] { m.ddsperf_batch = ddsperf_throughput(hosts, batch_bytes, dds_time / 2 + 2s); });
    attempt(m, fmt::format("ddsperf round trip, 32 bytes, {} Hz", o.latency_rate), [&] {
        m.ddsperf_rtt_paced =
            ddsperf_round_trip(hosts, 32, o.latency_rate, Trigger::listener, dds_time / 2 + 2s);
    });
    attempt(m, fmt::format("ddsperf round trip, 32 bytes, {} Hz, waitset", o.latency_rate), [&] {
        m.ddsperf_rtt_paced_waitset =
            ddsperf_round_trip(hosts, 32, o.latency_rate, Trigger::waitset, dds_time / 2 + 2s);
    });
    attempt(m, "ddsperf round trip, 32 bytes, back to back", [&] {
        m.ddsperf_rtt_back_to_back =
            ddsperf_round_trip(hosts, 32, 0, Trigger::listener, dds_time / 2 + 1s);
    });
    int step = 0;
    for (const double rate_m : o.rates_m) {
        const RunPlan plan =
            plan_of(o, fmt::format("bench_step_{}", step++), rate_m * 1e6, o.step_seconds);
        attempt(m, fmt::format("bridge, offered {} M records/s", rate_m),
                [&] { m.steps.push_back(run_stream(hosts, o.programs, plan, work)); });
    }
    // The latency runs: the bridge with its exporter and B's reader each asleep until woken
    // (futex) or polling (busy_spin), and the same writer with a reader on A and no bridge,
    // asleep and polling, the baselines of what the bridge adds. A sleeping thread costs one
    // wake-up per record, which on this kind of VM can mean waking a halted vCPU (50-100 µs);
    // a polling one costs a core. ddsperf's listener mode, the round trip the targets divide
    // by, hands nothing to another thread.
    struct Waits {
        bool bridged;
        const char* exporter;  // export --wait (bridged runs)
        const char* reader;
    };
    for (const Waits w : {Waits{true, "futex", "futex"}, Waits{true, "futex", "busy_spin"},
                          Waits{true, "busy_spin", "futex"}, Waits{true, "busy_spin", "busy_spin"},
                          Waits{false, "futex", "futex"}, Waits{false, "futex", "busy_spin"}}) {
        RunPlan plan = plan_of(o, "", o.latency_rate, o.latency_seconds);
        plan.timed = true;
        plan.bridged = w.bridged;
        plan.exporter_wait = w.exporter;
        plan.reader_wait = w.reader;
        plan.name = latency_case(plan);
        std::replace(plan.name.begin(), plan.name.end(), '-', '_');
        attempt(m, fmt::format("{}, {} records/s", latency_title(plan), o.latency_rate),
                [&] { m.latency_runs.push_back(run_stream(hosts, o.programs, plan, work)); });
    }
    return m;
}

int run(const Options& o) {
    if (const auto why = cannot_run(o)) {
        fmt::print(stderr, "shmrec-bridge-bench: cannot run here: {}\n", *why);
        return exit_cannot_run;
    }
    catch_stop_signals();
    Setup setup;
    setup.machine = machine();
    setup.load_before = first_line_of("/proc/loadavg");
    setup.capacity = o.capacity;
    setup.import_capacity = o.import_capacity;
    setup.batch = o.batch;
    setup.batch_payload = std::size_t{o.batch} * 32;
    setup.step_seconds = o.step_seconds;
    setup.latency_rate = o.latency_rate;
    setup.latency_seconds = o.latency_seconds;
    const auto start = Clock::now();

    fmt::print("shmrec-bridge-bench: making two hosts, then measuring:\n");
    Measurements m;
    {
        WorkDirectory work;
        const auto hosts = shmrec_bridge_test::TwoHosts::create();
        m = measure(o, *hosts, work.path);
    }  // the hosts are removed here, before the report
    setup.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    setup.load_after = first_line_of("/proc/loadavg");
    print_report(setup, m);
    write_json(o.json, setup, m);
    fmt::print("\nresults: {}\n", o.json);
    return m.failures.empty() ? exit_ok : exit_failed;
}

}  // namespace

}  // namespace bridge_bench

int main(int argc, char** argv) {
    using namespace bridge_bench;
    CLI::App app{"shmrec-bridge against Cyclone DDS's ddsperf on two simulated hosts (issue 12)",
                 "shmrec-bridge-bench"};
    Options o;
    app.add_option("--json", o.json, "Where to write the results")->capture_default_str();
    app.add_option("--rates", o.rates_m, "Offered rates of the throughput steps, M records/s")
        ->delimiter(',')
        ->capture_default_str();
    app.add_option("--step-seconds", o.step_seconds, "Writing time of a throughput step")
        ->check(CLI::Range(0.5, 60.0))
        ->capture_default_str();
    app.add_option("--capacity", o.capacity, "Capacity of A's broadcasts (a power of two)")
        ->capture_default_str();
    app.add_option("--import-capacity", o.import_capacity,
                   "Capacity of B's broadcasts (a power of two)")
        ->capture_default_str();
    app.add_option("--batch", o.batch, "The exporter's --batch")
        ->check(CLI::Range(1, 32768))
        ->capture_default_str();
    app.add_option("--latency-rate", o.latency_rate, "Records/s (and pings/s) of the latency runs")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    app.add_option("--latency-seconds", o.latency_seconds, "Duration of each latency run")
        ->check(CLI::Range(1.0, 60.0))
        ->capture_default_str();
    app.add_option("--ddsperf-seconds", o.ddsperf_seconds, "Duration of ddsperf's 32-byte run")
        ->check(CLI::Range(4, 60))
        ->capture_default_str();
    app.add_option("--bridge", o.programs.bridge, "The shmrec-bridge program")
        ->capture_default_str();
    app.add_option("--peer", o.programs.peer, "The benchmark's writer/reader program")
        ->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    for (const std::uint64_t capacity : {o.capacity, o.import_capacity}) {
        if (capacity == 0 || (capacity & (capacity - 1)) != 0) {
            fmt::print(stderr, "shmrec-bridge-bench: capacities must be powers of two\n");
            return exit_cannot_run;
        }
    }
    try {
        return run(o);
    } catch (const Interrupted& e) {
        fmt::print(stderr, "shmrec-bridge-bench: {}; the hosts were removed\n", e.what());
        return exit_interrupted;
    } catch (const std::exception& e) {
        fmt::print(stderr, "shmrec-bridge-bench: {}\n", e.what());
        return exit_failed;
    }
}
