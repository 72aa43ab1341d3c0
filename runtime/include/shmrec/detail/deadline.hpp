// A point on the steady clock by which a blocking call gives up. "Wait forever" is a timeout
// of nanoseconds::max() (or anything that would overflow the clock): the deadline saturates
// to the clock's end instead of wrapping into the past.
#pragma once

#include <chrono>

namespace shmrec::detail {

using SteadyClock = std::chrono::steady_clock;

inline SteadyClock::time_point deadline_after(std::chrono::nanoseconds timeout,
                                              SteadyClock::time_point now = SteadyClock::now()) {
    if (timeout <= std::chrono::nanoseconds::zero()) return now;
    // Compare in the clock's own duration: `now + timeout` is undefined behaviour when it
    // overflows, so check the room left first.
    const auto room = SteadyClock::time_point::max() - now;
    if (timeout >= room) return SteadyClock::time_point::max();
    return now + std::chrono::duration_cast<SteadyClock::duration>(timeout);
}

}  // namespace shmrec::detail
