// Internal (platform layer): who a process is, in a way that survives pid reuse (pid plus its
// start time), and the wall clock for display.
#pragma once

#include <cstdint>

namespace shmrec::platform {

struct ProcessIdentity {
    std::int32_t pid = 0;
    // When the process started, in the OS's own unit (Linux: clock ticks since boot,
    // /proc/<pid>/stat field 22; Windows: the creation FILETIME); 0 if unknown.
    std::uint64_t start_time = 0;
};

ProcessIdentity current_process() noexcept;

// CLOCK_REALTIME in nanoseconds since the epoch (for display only; never for timeouts).
std::uint64_t wall_clock_ns() noexcept;

// For the fault points of the crash tests (detail/fault.hpp): end this process as kill -9 /
// TerminateProcess would, or stop it until someone resumes it (SIGSTOP / NtSuspendProcess).
[[noreturn]] void kill_self() noexcept;
void stop_self() noexcept;

}  // namespace shmrec::platform
