#include "shmrec/detail/channel_setup.hpp"

#include <fmt/format.h>

#include "region_names.hpp"
#include "shmrec/detail/ring_layout.hpp"
#include "shmrec/error.hpp"

namespace shmrec::detail {

void check_capacity(const Location& where, std::string_view channel, std::uint64_t capacity) {
    if (!valid_ring_capacity(capacity)) {
        throw Error(ErrorCode::invalid_argument, where.name,
                    fmt::format("{}: {} capacity {} is not a power of two between 1 "
                                "and 2^31",
                                display_name(where), channel, capacity));
    }
}

void check_slot_geometry(const Region& region, std::uint64_t control_size,
                         std::uint64_t slot_stride) {
    const auto& g = region.geometry();
    auto fail = [&](const std::string& what) {
        throw Error(ErrorCode::corrupt_header, region.name(),
                    fmt::format("{} has an impossible header: {}",
                                display_name(Location(region.backing(), region.name())), what));
    };
    if (!valid_ring_capacity(g.capacity)) {
        fail(fmt::format("capacity {} is not a power of two between 1 and {}", g.capacity,
                         max_ring_capacity));
    }
    if (g.slot_stride != slot_stride) {
        fail(fmt::format("slot stride {}, expected {}", g.slot_stride, slot_stride));
    }
    // capacity <= 2^31 and stride < 2^32 (from a 32-bit record size): no overflow.
    const std::uint64_t expected = control_size + g.capacity * slot_stride;
    if (g.data_size != expected) {
        fail(fmt::format("data area of {} bytes, {} slots of {} bytes need {}", g.data_size,
                         g.capacity, slot_stride, expected));
    }
}

}  // namespace shmrec::detail
