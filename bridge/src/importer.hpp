// shmrec-bridge import: a topic's batches written, in source order, into a local broadcast
// region of exactly the topic's record type (created, or taken over), with every gap counted
// (docs/bridge.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "stop_signals.hpp"
#include "transport.hpp"

namespace shmrec::bridge {

struct ImportOptions {
    std::string topic;   // T
    std::string region;  // the local broadcast region to write
    // Capacity of a region the importer creates, in records (a power of two); 0: the source's.
    std::uint64_t capacity = 0;
    // A status line this often; zero: none.
    std::chrono::seconds status_interval{0};
};

struct ImportCounts {
    std::uint64_t records = 0;      // records written into the region
    std::uint64_t batches = 0;      // batches written (wholly or in part)
    std::uint64_t source_lost = 0;  // records the exporter reported lost (lapped) at the source
    std::uint64_t missing = 0;      // positions neither delivered nor reported lost
    std::uint64_t duplicates = 0;   // records at positions already written, not written again
    std::uint64_t refused = 0;      // batches and identities refused (wire.hpp's checks)
    // From the first batch written to the last: records / active_seconds is the rate.
    double active_seconds = 0;
};

// Waits for the topic's identity, opens the region for it (throws shmrec::Error if the region
// exists with another record type, exactly as a local writer of that type would be refused),
// then writes what arrives until `stop` is requested and the transport woken. Throws
// TransportError when the engine fails.
ImportCounts run_import(Transport& transport, const ImportOptions& options, const StopFlag& stop);
// The same on a subscriber of options.topic already made (the tests script one).
ImportCounts run_import(Subscriber& subscriber, const ImportOptions& options,
                        const StopFlag& stop);

}  // namespace shmrec::bridge
