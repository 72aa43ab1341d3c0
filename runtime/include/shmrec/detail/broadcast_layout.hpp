// Layout of a broadcast ring's data area (at RegionHeader::data_offset):
//
//   +0     BroadcastControl (256 bytes): tail, and the doorbell readers sleep on
//   +256   slot 0: seqlock version (8 bytes), payload at payload_offset, stride a multiple of 64
//   ...    slot capacity-1
//
// Record p goes to slot p & (capacity - 1) with seqlock stamp p + 1 (version 2p+1 while it is
// written, 2p+2 once complete; detail/seqlock.hpp). Readers keep their cursors privately.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "shmrec/detail/channel_descriptor.hpp"
#include "shmrec/detail/region_header.hpp"
#include "shmrec/detail/ring_layout.hpp"

namespace shmrec::detail {

struct BroadcastControl {
    std::atomic<std::uint64_t> tail;  // positions < tail are complete; writer only
    std::uint8_t writer_pad[block - 8];
    std::atomic<std::uint32_t> doorbell;  // bumped by the writer when a reader waits, and on close
    std::uint8_t doorbell_pad[block - 4];
};
static_assert(std::is_standard_layout_v<BroadcastControl>);
static_assert(sizeof(BroadcastControl) == 2 * block);
static_assert(alignof(BroadcastControl) == 8);
static_assert(offsetof(BroadcastControl, tail) == 0);
static_assert(offsetof(BroadcastControl, doorbell) == block);

struct BroadcastDescriptor : SlottedDescriptor {
    static constexpr ChannelKind kind = ChannelKind::broadcast;
    static constexpr std::string_view name = "broadcast";
    static constexpr std::uint64_t control_size = sizeof(BroadcastControl);
    static constexpr bool allows(Role role) { return role != Role::consumer; }
};

}  // namespace shmrec::detail
