#include "shmrec/detail/futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

namespace shmrec::detail {

FutexWait futex_wait(const std::uint32_t* word, std::uint32_t expected,
                     std::chrono::nanoseconds timeout) noexcept {
    if (timeout <= std::chrono::nanoseconds::zero()) return FutexWait::timed_out;
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
    timespec rel{};
    rel.tv_sec = static_cast<time_t>(secs.count());
    rel.tv_nsec = static_cast<long>((timeout - secs).count());
    // FUTEX_WAIT's timeout is relative and measured on CLOCK_MONOTONIC: wall-clock jumps do
    // not shorten or stretch it.
    const long rc = ::syscall(SYS_futex, word, FUTEX_WAIT, expected, &rel, nullptr, 0);
    if (rc == 0) return FutexWait::woken;
    switch (errno) {
        case EAGAIN: return FutexWait::value_changed;
        case ETIMEDOUT: return FutexWait::timed_out;
        case EINTR: return FutexWait::interrupted;
        default: return FutexWait::woken;  // treat as spurious: callers always re-check
    }
}

void futex_wake_all(const std::uint32_t* word) noexcept {
    ::syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

}  // namespace shmrec::detail
