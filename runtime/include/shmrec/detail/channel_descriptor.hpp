// A channel kind is described once: its ChannelKind, the size of its control block, which roles
// may open it, and the geometry rules shared by every slotted channel (a power-of-two number
// of slots, each a version or sequence word followed by the payload, cache-line strides). The
// typed channels (cell.hpp, ring.hpp, broadcast.hpp) add only their position rules; creating,
// opening and validating a region of any kind is channel_setup.hpp, once.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "shmrec/detail/region_header.hpp"
#include "shmrec/region.hpp"

namespace shmrec::detail {

constexpr std::uint64_t round_up_to(std::uint64_t v, std::uint64_t unit) {
    return (v + unit - 1) / unit * unit;
}

struct SlottedDescriptor {
    // A power of two, at most 2^31: positions and slot indexes stay far from any overflow.
    static constexpr std::uint64_t min_capacity = 1;
    static constexpr std::uint64_t max_capacity = std::uint64_t{1} << 31;
    // The slot's 8-byte word first; the payload 8-aligned (or at the record's alignment when
    // larger) and a whole number of words, so it can be copied word by word.
    static constexpr std::uint64_t payload_offset(std::uint64_t alignment) {
        return std::max<std::uint64_t>(8, alignment);
    }
    static constexpr std::uint64_t slot_stride(std::uint64_t size, std::uint64_t alignment) {
        return round_up_to(payload_offset(alignment) + round_up_to(size, 8), cache_line);
    }
};

// What a descriptor D provides (see CellDescriptor, RingDescriptor, BroadcastDescriptor).
template <class D>
concept ChannelDescriptor = requires(Role role) {
    { D::kind } -> std::convertible_to<ChannelKind>;
    { D::name } -> std::convertible_to<std::string_view>;
    { D::control_size } -> std::convertible_to<std::uint64_t>;
    { D::allows(role) } -> std::same_as<bool>;
    { D::min_capacity } -> std::convertible_to<std::uint64_t>;
    { D::max_capacity } -> std::convertible_to<std::uint64_t>;
};

template <ChannelDescriptor D>
constexpr std::uint64_t data_size(std::uint64_t capacity, std::uint64_t stride) {
    return D::control_size + capacity * stride;
}

}  // namespace shmrec::detail
