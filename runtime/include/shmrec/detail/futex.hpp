// Cross-process futex wait and wake on a 32-bit word in shared memory.
//
// Never FUTEX_PRIVATE_FLAG: the waiter and the waker are different processes with different
// mappings of the same page, and private futexes are keyed by address space (the reason
// std::atomic<T>::wait cannot be used here; see docs/reliability.md).
#pragma once

#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>

namespace shmrec::detail {

enum class FutexWait : std::uint8_t {
    woken,          // a wake arrived, or a spurious wake-up: re-check the condition
    value_changed,  // the word no longer held `expected` when the kernel looked
    timed_out,
    interrupted,    // EINTR: re-check the condition and the remaining time
};

// Sleeps while *word == expected, at most `timeout` (measured on CLOCK_MONOTONIC). Works on a
// read-only mapping.
FutexWait futex_wait(const std::uint32_t* word, std::uint32_t expected,
                     std::chrono::nanoseconds timeout) noexcept;

// Wakes every process sleeping on `word`.
void futex_wake_all(const std::uint32_t* word) noexcept;

// The 32-bit half of a 64-bit counter that changes on every increment: a futex word for
// sleeping until the counter moves. The kernel reads it; C++ code never does.
inline const std::uint32_t* low_half(const std::atomic<std::uint64_t>& counter) noexcept {
    static_assert(sizeof(std::atomic<std::uint64_t>) == 8);
    const auto* p = reinterpret_cast<const std::uint32_t*>(&counter);
    if constexpr (std::endian::native == std::endian::big) return p + 1;
    return p;
}

}  // namespace shmrec::detail
