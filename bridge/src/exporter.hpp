// shmrec-bridge export: a local broadcast's records (or a cell's values), read as an ordinary
// reader (untyped, any record type), published in batches on a topic (docs/bridge.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <shmrec/wait.hpp>

#include "stop_signals.hpp"
#include "transport.hpp"

namespace shmrec::bridge {

struct ExportOptions {
    std::string region;  // the local broadcast region's name
    std::string topic;   // T
    // A batch ends when the reader would wait, at this many records (or max_batch_bytes), or
    // at a gap.
    std::uint32_t max_batch_records = 1024;
    // How the exporter waits for the region's next record. futex sleeps on the region's
    // doorbell and is woken by the writer (a wake-up costs ~10-90 us on a VM); busy_spin polls
    // and burns a core for the lowest latency; spin_yield polls, yielding between looks.
    WaitStrategy wait = WaitStrategy::futex;
    // A status line this often; zero: none.
    std::chrono::seconds status_interval{0};
};

struct ExportCounts {
    std::uint64_t records = 0;  // records published
    std::uint64_t batches = 0;
    std::uint64_t lost = 0;  // records the region's writer overwrote before we read them
};

// Waits for the region (it may not exist yet) and for a subscriber, then publishes until
// `stop` is requested (and the transport woken). Throws shmrec::Error when the region cannot be
// read (neither a broadcast nor a cell, corrupt, no permission), TransportError when the
// engine fails.
ExportCounts run_export(Transport& transport, const ExportOptions& options, const StopFlag& stop);

}  // namespace shmrec::bridge
