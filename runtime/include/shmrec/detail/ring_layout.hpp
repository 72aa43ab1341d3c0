// Layout of a ring's data area (at RegionHeader::data_offset):
//
//   +0     RingControl (768 bytes: six two-line blocks, each written by one side only)
//   +768   slot 0: seq (8 bytes), payload at payload_offset, stride a multiple of 64
//   ...    slot capacity-1
//
// Position p (a 64-bit count: 2^64 records at 10^9/s take 584 years, yet every comparison is
// wrap-aware, see ahead(), and tested across the wrap) lives in slot p & (capacity - 1). A
// slot's seq is p + 1 once record p is in it; the consumer reads the slot's seq and payload
// from the same cache line, so a record crosses between cores as one line
// (docs/ring-protocol.md).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "shmrec/detail/channel_descriptor.hpp"
#include "shmrec/detail/region_header.hpp"

namespace shmrec::detail {

// Two cache lines per block: adjacent-line prefetch pulls lines in pairs.
inline constexpr std::size_t block = 2 * cache_line;

struct RingControl {
    // Writer only. Published once per write or batch; the consumer never needs it (it reads
    // slot seqs), observers and a replacing writer do.
    std::atomic<std::uint64_t> tail;  // positions < tail are published
    // Writer only, for observers (untyped::RingObserver): before it changes the payload of
    // positions [t, t + n) (a copy, a batch, a Loan) the writer stores claimed = t + n. Slots
    // of positions below claimed - capacity may be being overwritten. In the writer's own
    // line, which the consumer never reads: it costs the data path no cache-line transfer.
    std::atomic<std::uint64_t> claimed;
    std::uint8_t writer_pad[block - 16];
    // Consumer only.
    std::atomic<std::uint64_t> head;            // positions < head are consumed: slots free
    std::atomic<std::uint32_t> consumer_epoch;  // consumers that ever attached
    std::uint32_t reserved0;
    std::uint8_t consumer_pad[block - 16];
    // The consumer's waiter registry (bit 0: asleep for data), written when it parks; the
    // writer reads it after every publish, so it does not share a line with `head`.
    std::atomic<std::uint64_t> consumer_waiting;
    std::uint8_t consumer_waiting_pad[block - 8];
    // Doorbell for data: the writer rings it when the consumer waits, and on close.
    std::atomic<std::uint32_t> data_doorbell;
    std::uint8_t data_doorbell_pad[block - 4];
    // The writer's waiter registry (bit 0: asleep for room or for the ring to drain).
    std::atomic<std::uint64_t> writer_waiting;
    std::uint8_t writer_waiting_pad[block - 8];
    // Doorbell for room: the consumer rings it when the writer waits.
    std::atomic<std::uint32_t> room_doorbell;
    std::uint8_t room_doorbell_pad[block - 4];
};
static_assert(std::is_standard_layout_v<RingControl>);
static_assert(sizeof(RingControl) == 6 * block);
static_assert(alignof(RingControl) == 8);
static_assert(offsetof(RingControl, tail) == 0);
static_assert(offsetof(RingControl, claimed) == 8);
static_assert(offsetof(RingControl, head) == block);
static_assert(offsetof(RingControl, consumer_epoch) == block + 8);
static_assert(offsetof(RingControl, consumer_waiting) == 2 * block);
static_assert(offsetof(RingControl, data_doorbell) == 3 * block);
static_assert(offsetof(RingControl, writer_waiting) == 4 * block);
static_assert(offsetof(RingControl, room_doorbell) == 5 * block);

struct RingSlotHeader {
    std::atomic<std::uint64_t> seq;
};
static_assert(sizeof(RingSlotHeader) == 8);

struct RingDescriptor : SlottedDescriptor {
    static constexpr ChannelKind kind = ChannelKind::ring;
    static constexpr std::string_view name = "ring";
    static constexpr std::uint64_t control_size = sizeof(RingControl);
    static constexpr bool allows(Role role) { return role != Role::reader; }
};

}  // namespace shmrec::detail
