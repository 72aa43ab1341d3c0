// The physical floors every case is compared with, measured by the same two pinned processes:
//   - two cache lines bounced between them (one atomic per direction, each side spins on its
//     line): the least a shared-memory round trip can cost;
//   - a bare futex ping-pong (non-private futex on shared memory, wake on every message):
//     the least a round trip that sleeps can cost;
//   - memcpy bandwidth of one core for a given block size.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "process.hpp"

namespace bench {

// Side A stores n round trips (ns) in samples; side B answers (samples unused).
void cacheline_pingpong(Control& ctl, Side side, std::uint64_t n, std::int64_t* samples);
void futex_pingpong(Control& ctl, Side side, std::uint64_t n, std::int64_t* samples);

// Bytes/s of memcpy in `block`-sized copies cycling through `footprint` bytes.
double memcpy_bandwidth(std::size_t block, std::size_t footprint, std::chrono::nanoseconds run);

}  // namespace bench
