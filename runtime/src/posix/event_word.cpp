// POSIX (Linux) implementation of detail/event_word.hpp: a shared futex.
//
// Never FUTEX_PRIVATE_FLAG: the waiter and the waker are different processes with different
// mappings of the same page, and private futexes are keyed by address space (the reason
// std::atomic<T>::wait cannot be used here; see docs/reliability.md).
#include "shmrec/detail/event_word.hpp"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "platform/wake_scope.hpp"

namespace shmrec::detail {

namespace {

const std::uint32_t* address_of(const std::atomic<std::uint32_t>& word) noexcept {
    static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
    return reinterpret_cast<const std::uint32_t*>(&word);
}

}  // namespace

// One futex wake reaches every sleeper: `sleeper` and the registry are not needed here.
WordWait wait_on_word(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                      std::chrono::nanoseconds timeout, std::uint32_t) noexcept {
    if (timeout <= std::chrono::nanoseconds::zero()) return WordWait::timed_out;
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
    timespec rel{};
    rel.tv_sec = static_cast<time_t>(secs.count());
    rel.tv_nsec = static_cast<long>((timeout - secs).count());
    // FUTEX_WAIT's timeout is relative and measured on CLOCK_MONOTONIC.
    const long rc = ::syscall(SYS_futex, address_of(word), FUTEX_WAIT, expected, &rel, nullptr, 0);
    if (rc == 0) return WordWait::woken;
    switch (errno) {
        case EAGAIN: return WordWait::value_changed;
        case ETIMEDOUT: return WordWait::timed_out;
        case EINTR: return WordWait::interrupted;
        default: return WordWait::woken;  // treat as spurious: callers always re-check
    }
}

void wake_word(const std::atomic<std::uint32_t>& word, const WaiterRegistry&) noexcept {
    ::syscall(SYS_futex, address_of(word), FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

void yield_thread() noexcept { ::sched_yield(); }

void sleep_a_little() noexcept { sleep_at_least(std::chrono::milliseconds(1)); }

void sleep_at_least(std::chrono::microseconds duration) noexcept {
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(duration);
    timespec left{static_cast<time_t>(secs.count()),
                  static_cast<long>(std::chrono::nanoseconds(duration - secs).count())};
    while (::nanosleep(&left, &left) != 0 && errno == EINTR) {
    }
}

}  // namespace shmrec::detail

namespace shmrec::platform {

// A shared futex is keyed by the page: nothing to name.
void register_wake_scope(const void*, std::size_t, std::uint64_t, Handle, const Location&) {}
void unregister_wake_scope(const void*) noexcept {}

}  // namespace shmrec::platform
