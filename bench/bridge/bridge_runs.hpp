// The bridge between the two hosts, one run at a time: on A a writer (the benchmark's peer)
// into a fresh broadcast and `shmrec-bridge export`; on B `shmrec-bridge import` and a reader
// (the peer again) of the region the importer makes. Every run starts new processes and new
// regions, so each summary the bridge prints on SIGTERM belongs to that run alone. The same
// run without the bridge (the reader on A) is the local baseline of the latency.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "two_hosts.hpp"

namespace bridge_bench {

struct Programs {
    std::string bridge;  // shmrec-bridge
    std::string peer;    // shmrec-bridge-bench-peer
};

struct RunPlan {
    std::string name;                   // region and topic, on both hosts
    double rate = 0;                    // records/s the writer offers (paced); 0: as fast as it can
    std::uint64_t count = 0;            // records written
    std::uint64_t capacity = 0;         // of A's broadcast: the exporter's slack
    std::uint64_t import_capacity = 0;  // of B's region (import --capacity): the reader's slack
    std::uint32_t batch = 0;            // the exporter's --batch
    std::string exporter_wait = "futex";  // the exporter's --wait
    std::string reader_wait = "futex";    // the reader's: futex (asleep) or busy_spin (polling)
    bool timed = false;                   // per-record send and receive times (latency)
    bool bridged = true;                  // false: no bridge, the reader reads A's region on A
};

struct RunResult {
    RunPlan plan;
    std::uint64_t written = 0;
    double written_rate = 0;     // what the writer achieved: records / (last write - first)
    std::uint64_t received = 0;  // by the reader (B's, or A's when not bridged)
    // Records the reader itself was lapped past: the benchmark's reader fell behind its
    // region (descheduled on a busy machine), not a loss of the bridge.
    std::uint64_t lapped = 0;
    std::uint64_t disorder = 0;  // records B's reader saw repeated or out of order
    double stream_seconds = 0;   // A's first write to the reader's last read
    double carried_rate = 0;     // delivered() / stream_seconds
    // The bridge's own summaries.
    std::uint64_t exported = 0;
    std::uint64_t source_lost = 0;  // the exporter's "lost at the source"
    std::uint64_t imported = 0;
    std::uint64_t missing = 0;  // the importer's
    std::uint64_t duplicates = 0;
    // One-way latencies, A's write to B's read, in ns (timed runs only; records that never
    // arrived are left out).
    std::vector<std::int64_t> latencies_ns;

    // Records that reached the reader's region: imported on B, or written when not bridged.
    std::uint64_t delivered() const { return plan.bridged ? imported : written; }
    // Every record reached the reader's region, in order: nothing lost at the source, nothing
    // missing, and what the reader read was in order.
    bool lossless() const {
        return delivered() == written && source_lost == 0 && missing == 0 && disorder == 0;
    }
};

// One run; throws std::runtime_error (with the failing process's output) when a process
// fails or does not report in time. `work` holds the timing files of a timed run.
RunResult run_stream(const shmrec_bridge_test::TwoHosts& hosts, const Programs& programs,
                     const RunPlan& plan, const std::filesystem::path& work);

}  // namespace bridge_bench
