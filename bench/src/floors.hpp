// The physical floors every case is compared with, measured by the same two pinned processes:
//   - two cache lines bounced between them (one atomic per direction, each side spins on its
//     line): the least a shared-memory round trip can cost;
//   - a bare futex ping-pong (non-private futex on shared memory, wake on every message):
//     the least a round trip that sleeps can cost;
//   - memcpy bandwidth of one core for a given block size;
//   - the cross-core copy floor: a bare ring in shared memory, one memcpy in on A's core, one
//     memcpy out on B's, one sequence word per block; what any cross-process transfer of
//     the same blocks through the same footprint can reach at best;
//   - its in-place form: the same ring, A writes each block where it lies (memset) and B reads
//     every byte where it lies (a sum): what a zero-copy transfer can reach at best, the
//     cross-core movement of the lines alone.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "process.hpp"

namespace bench {

// Side A stores n round trips (ns) in samples; side B answers (samples unused).
void cacheline_pingpong(Control& ctl, Side side, std::uint64_t n, std::int64_t* samples);
void futex_pingpong(Control& ctl, Side side, std::uint64_t n, std::int64_t* samples);

// Bytes/s of memcpy in `block`-sized copies cycling through `footprint` bytes.
double memcpy_bandwidth(std::size_t block, std::size_t footprint, std::chrono::nanoseconds run);

// The cross-core copy floor's ring: `slots` slots of `stride` bytes (a multiple of 64; the
// sequence word at +0, the block at +8, as in the shmrec ring's slots) after a header of two
// two-line blocks, in its own POSIX shared memory. A creates it (registered, so an interrupted
// run removes it) and unlinks it when destroyed; B opens it by name. Both map it populated.
// Positions continue from one run to the next (as the cache-line floor's counters do).
class CopyRing {
public:
    static CopyRing create(const std::string& name, std::uint64_t slots, std::uint64_t stride);
    static CopyRing open(const std::string& name, std::uint64_t slots, std::uint64_t stride);
    CopyRing(CopyRing&& other) noexcept;
    CopyRing& operator=(CopyRing&&) = delete;
    ~CopyRing();

    std::uint64_t slots() const noexcept { return slots_; }
    std::uint64_t stride() const noexcept { return stride_; }

    // A: copies `block`-byte blocks in from one private buffer for `run` (in place: fills
    // them where they lie), then ends the run with a stop mark; returns the blocks sent.
    std::uint64_t send(std::size_t block, std::chrono::nanoseconds run, bool in_place = false);
    // B: copies every block out into one private buffer (in place: sums every byte where it
    // lies) until the stop mark; returns the blocks received.
    std::uint64_t receive(std::size_t block, bool in_place = false);

private:
    CopyRing(std::string name, void* base, std::uint64_t slots, std::uint64_t stride, bool owner);
    std::string name_;
    void* base_;
    std::uint64_t slots_;
    std::uint64_t stride_;
    bool owner_;
};

}  // namespace bench
