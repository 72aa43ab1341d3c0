// Windows process identity and wall clock (platform/process.hpp).
#include "platform/process.hpp"

#include <windows.h>

namespace shmrec::platform {

namespace {

std::uint64_t from_filetime(const FILETIME& t) noexcept {
    return (static_cast<std::uint64_t>(t.dwHighDateTime) << 32) | t.dwLowDateTime;
}

}  // namespace

ProcessIdentity current_process() noexcept {
    FILETIME created{}, exited{}, kernel{}, user{};
    std::uint64_t start = 0;
    if (::GetProcessTimes(::GetCurrentProcess(), &created, &exited, &kernel, &user)) {
        start = from_filetime(created);  // 100 ns units since 1601: unique per pid incarnation
    }
    return {static_cast<std::int32_t>(::GetCurrentProcessId()), start};
}

std::uint64_t wall_clock_ns() noexcept {
    FILETIME now{};
    ::GetSystemTimePreciseAsFileTime(&now);
    constexpr std::uint64_t unix_epoch = 116444736000000000ull;  // 1970-01-01 in 1601 units
    const std::uint64_t t = from_filetime(now);
    return t < unix_epoch ? 0 : (t - unix_epoch) * 100;
}

// The exit code of a process ended by a fault point, as a shell reports kill -9 (128 + 9).
void kill_self() noexcept {
    ::TerminateProcess(::GetCurrentProcess(), 137);
    ::ExitProcess(137);  // not reached
}

// Suspends every thread of this process, this one included; the test resumes it with
// NtResumeProcess.
void stop_self() noexcept {
    using Suspend = LONG(NTAPI*)(HANDLE);
    const HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
    const auto suspend =
        ntdll ? reinterpret_cast<Suspend>(
                    reinterpret_cast<void*>(::GetProcAddress(ntdll, "NtSuspendProcess")))
              : nullptr;
    if (suspend != nullptr) suspend(::GetCurrentProcess());
}

}  // namespace shmrec::platform
