// Sleeping until a 32-bit word in shared memory changes, and waking every sleeper: the one OS
// service the channel templates need for blocking. Declared here, implemented once per OS
// (runtime/src/posix/event_word.cpp: a shared futex). Channels sleep on their doorbell word
// only (detail/doorbell.hpp), never on a position word.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace shmrec::detail {

enum class WordWait : std::uint8_t {
    woken,          // a wake arrived, or a spurious wake-up: re-check the condition
    value_changed,  // the word no longer held `expected` when the kernel looked
    timed_out,
    interrupted,    // a signal: re-check the condition and the remaining time
};

// Sleeps while `word` holds `expected`, at most `timeout` (a monotonic clock: wall-clock jumps
// neither shorten nor stretch it). Works on a read-only mapping; never process-private, so the
// waker may be another process with another mapping of the same page.
WordWait wait_on_word(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                      std::chrono::nanoseconds timeout) noexcept;

// Wakes every thread of every process sleeping on `word`.
void wake_word(const std::atomic<std::uint32_t>& word) noexcept;

// Gives the CPU to another runnable thread (the spin_yield wait strategy).
void yield_thread() noexcept;

// Sleeps about a millisecond (polling loops that no doorbell serves, e.g. waiting for readers
// to attach).
void sleep_a_little() noexcept;

}  // namespace shmrec::detail
