// Comparing 64-bit positions, sequences and versions so that none breaks when it wraps.
#pragma once

#include <cstdint>

namespace shmrec::detail {

// How far `a` is ahead of `b` on the circle of 64-bit counters: negative when behind. Correct
// while the two are less than 2^63 apart, which a healthy peer never exceeds.
constexpr std::int64_t ahead(std::uint64_t a, std::uint64_t b) {
    return static_cast<std::int64_t>(a - b);
}

// No healthy writer is this far (2^48 records: days at 10^9 records/s) ahead of any reader or
// observer: a larger lead read from shared memory is reported as corrupt, never turned into an
// absurd loss count.
inline constexpr std::int64_t max_plausible_lead = std::int64_t{1} << 48;

}  // namespace shmrec::detail
