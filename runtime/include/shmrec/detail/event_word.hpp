// Sleeping until a 32-bit word in shared memory changes, and waking the sleepers: the one OS
// service the channel templates need for blocking. Declared here, implemented once per OS.
// Channels sleep on their doorbell word only (detail/doorbell.hpp), never on a position word,
// and every sleeper is registered in the doorbell's WaiterRegistry under its own bit first.
//   Linux (runtime/src/posix/event_word.cpp): a shared futex on the word; one wake reaches
//   every sleeper, the registry is not needed.
//   Windows (runtime/src/windows/event_word.cpp): a word cannot be slept on across processes
//   (WaitOnAddress is process-local), so each (doorbell, sleeper bit) pair has a named
//   auto-reset event, created by the sleeper the first time it sleeps; the waker signals the
//   event of every bit set in the registry.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "shmrec/detail/waiter_registry.hpp"

namespace shmrec::detail {

enum class WordWait : std::uint8_t {
    woken,          // a wake arrived, or a spurious wake-up: re-check the condition
    value_changed,  // the word no longer held `expected` when the kernel looked
    timed_out,
    interrupted,    // a signal: re-check the condition and the remaining time
};

// Sleeps while `word` holds `expected`, at most `timeout` (a monotonic clock: wall-clock jumps
// neither shorten nor stretch it). `sleeper` is the caller's bit in the doorbell's registry,
// set before the call. Works on a read-only mapping; never process-private, so the waker may
// be another process with another mapping of the same page.
WordWait wait_on_word(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                      std::chrono::nanoseconds timeout, std::uint32_t sleeper) noexcept;

// Wakes every thread of every process sleeping on `word` and registered in `sleepers`.
void wake_word(const std::atomic<std::uint32_t>& word, const WaiterRegistry& sleepers) noexcept;

// Gives the CPU to another runnable thread (the spin_yield wait strategy).
void yield_thread() noexcept;

// Sleeps about a millisecond (polling loops that no doorbell serves, e.g. waiting for readers
// to attach).
void sleep_a_little() noexcept;

// Sleeps at least `duration` (short retry pauses). Not std::this_thread::sleep_for: under
// MinGW it returns at once below a millisecond; Windows sleeps whole milliseconds, rounded up.
void sleep_at_least(std::chrono::microseconds duration) noexcept;

}  // namespace shmrec::detail
