// Layout of a ring's data area (at RegionHeader::data_offset):
//
//   +0     RingControl (512 bytes: four two-line blocks, each written by one side only)
//   +512   slot 0: seq (8 bytes), payload at ring_payload_offset, stride a multiple of 64
//   ...    slot capacity-1
//
// Position p (a 64-bit count: 2^64 records at 10^9/s take 584 years, yet every comparison is
// wrap-aware, see ahead(), and tested across the wrap) lives in slot p & (capacity - 1). A slot's seq is p + 1 once record p is in it; the
// consumer reads the slot's seq and payload from the same cache line, so a record crosses
// between cores as one line (docs/ring-protocol.md).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "shmrec/detail/cell_layout.hpp"
#include "shmrec/detail/region_header.hpp"
#include "shmrec/detail/sequence.hpp"

namespace shmrec::detail {

// Two cache lines per block: adjacent-line prefetch pulls lines in pairs.
inline constexpr std::size_t block = 2 * cache_line;

struct RingControl {
    // Writer only. Published once per write or batch; the consumer never needs it (it reads
    // slot seqs), observers and a replacing writer do.
    std::atomic<std::uint64_t> tail;  // positions < tail are published
    std::uint8_t writer_pad[block - 8];
    // Consumer only.
    std::atomic<std::uint64_t> head;            // positions < head are consumed: slots free
    std::atomic<std::uint32_t> consumer_epoch;  // consumers that ever attached
    std::uint32_t reserved0;
    std::uint8_t consumer_pad[block - 16];
    // Consumer, only when it goes to sleep; the writer reads it after each publish, so it must
    // not share a line with `head`, which the consumer writes all the time.
    std::atomic<std::uint32_t> consumer_waiting;
    std::uint8_t consumer_wait_pad[block - 4];
    // Writer, only when it sleeps on a full ring.
    std::atomic<std::uint32_t> writer_waiting;
    std::uint8_t writer_wait_pad[block - 4];
};
static_assert(sizeof(RingControl) == 4 * block);
static_assert(offsetof(RingControl, tail) == 0);
static_assert(offsetof(RingControl, head) == block);
static_assert(offsetof(RingControl, consumer_epoch) == block + 8);
static_assert(offsetof(RingControl, consumer_waiting) == 2 * block);
static_assert(offsetof(RingControl, writer_waiting) == 3 * block);

struct RingSlotHeader {
    std::atomic<std::uint64_t> seq;
};
static_assert(sizeof(RingSlotHeader) == 8);

// Capacity: a power of two, at most 2^31, so a 32-bit futex word on a slot's seq changes
// whenever the slot is refilled (seq moves by capacity).
inline constexpr std::uint64_t max_ring_capacity = std::uint64_t{1} << 31;

constexpr bool valid_ring_capacity(std::uint64_t c) {
    return c >= 1 && c <= max_ring_capacity && (c & (c - 1)) == 0;
}
constexpr std::uint64_t ring_payload_offset(std::uint64_t alignment) {
    return std::max<std::uint64_t>(sizeof(RingSlotHeader), alignment);
}
constexpr std::uint64_t ring_slot_stride(std::uint64_t record_size, std::uint64_t alignment) {
    return round_up_to(ring_payload_offset(alignment) + round_up_to(record_size, 8), cache_line);
}
constexpr std::uint64_t ring_data_size(std::uint64_t capacity, std::uint64_t stride) {
    return sizeof(RingControl) + capacity * stride;
}

// A broadcast ring: one writer, read-only readers with private cursors. Slot version 2p+1
// while record p is being written, 2p+2 once complete (a seqlock per slot).
struct BroadcastControl {
    std::atomic<std::uint64_t> tail;  // positions < tail are complete; writer only
    std::uint8_t writer_pad[block - 8];
};
static_assert(sizeof(BroadcastControl) == block);

constexpr std::uint64_t broadcast_data_size(std::uint64_t capacity, std::uint64_t stride) {
    return sizeof(BroadcastControl) + capacity * stride;
}

}  // namespace shmrec::detail
