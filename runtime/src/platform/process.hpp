// Internal (platform layer): who a process is, in a way that survives pid reuse (pid plus its
// start time), and the wall clock for display.
#pragma once

#include <cstdint>

namespace shmrec::platform {

struct ProcessIdentity {
    std::int32_t pid = 0;
    std::uint64_t start_time = 0;  // clock ticks since boot (/proc/<pid>/stat field 22); 0 if unknown
};

ProcessIdentity current_process() noexcept;

// CLOCK_REALTIME in nanoseconds since the epoch (for display only; never for timeouts).
std::uint64_t wall_clock_ns() noexcept;

}  // namespace shmrec::platform
