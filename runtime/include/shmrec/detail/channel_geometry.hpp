// Checks a slotted channel's geometry (taken from an untrusted header) before any slot is
// addressed: power-of-two capacity within bounds, and a data area of exactly the size the
// capacity and stride imply.
#pragma once

#include <cstdint>

#include "shmrec/region.hpp"

namespace shmrec::detail {

// Throws Error{corrupt_header} naming the region and the impossible values.
void check_slot_geometry(const Region& region, std::uint64_t control_size,
                         std::uint64_t slot_stride);

}  // namespace shmrec::detail
