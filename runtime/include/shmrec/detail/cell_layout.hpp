// Layout of a latest-value cell's data area (at RegionHeader::data_offset):
//
//   +0                  CellControl     latest: stamp of the newest complete record;
//                                       doorbell (its own cache line) readers sleep on
//   +128                slot 0          seqlock version (8 bytes), payload at payload_offset
//   +128 + stride       slot 1
//
// Two slots, used alternately: record n goes to slot n % 2. The slot being written is never the
// one `latest` points at, so a writer killed mid-write leaves the previous record intact.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "shmrec/detail/channel_descriptor.hpp"
#include "shmrec/detail/region_header.hpp"

namespace shmrec::detail {

struct CellControl {
    std::atomic<std::uint64_t> latest;  // 0: nothing published yet
    std::uint8_t latest_pad[cache_line - 8];
    std::atomic<std::uint32_t> doorbell;  // bumped by the writer when a reader waits, and on close
    std::uint8_t doorbell_pad[cache_line - 4];
};
static_assert(std::is_standard_layout_v<CellControl>);
static_assert(sizeof(CellControl) == 2 * cache_line);
static_assert(alignof(CellControl) == 8);
static_assert(offsetof(CellControl, latest) == 0);
static_assert(offsetof(CellControl, doorbell) == cache_line);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

struct CellDescriptor : SlottedDescriptor {
    static constexpr ChannelKind kind = ChannelKind::cell;
    static constexpr std::string_view name = "cell";
    static constexpr std::uint64_t control_size = sizeof(CellControl);
    static constexpr std::uint64_t slot_count = 2;  // the capacity of every cell
    static constexpr std::uint64_t min_capacity = slot_count;
    static constexpr std::uint64_t max_capacity = slot_count;
    static constexpr bool allows(Role role) { return role != Role::consumer; }
};

}  // namespace shmrec::detail
