// Layout of a byte broadcast's data area (at RegionHeader::data_offset): the frames of a byte
// ring (detail/byte_ring_layout.hpp, the same frame format) in a buffer that the one writer
// overwrites from the oldest frame on; readers keep their positions privately.
//
//   +0     ByteBroadcastControl (256 bytes): the writer's words, then the readers' doorbell
//   +256   the buffer: `capacity` bytes of frames, 16-aligned
//
// A message's payload starts right after its 24-byte header (offset 0): readers copy it out
// word by word, so it needs 8-byte alignment, not FlatBuffers' alignment from the end.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "shmrec/detail/byte_ring_layout.hpp"

namespace shmrec::detail {

struct ByteBroadcastControl {
    // All five written by the writer only.
    std::atomic<std::uint64_t> tail;     // frames below are complete (bytes)
    // Bytes below this may be changing now: stored (relaxed + release fence) before the writer
    // touches a byte of a frame, so a reader whose copy overlapped an overwrite sees it moved.
    // Covers the state word after the frame too, which the writer clears.
    std::atomic<std::uint64_t> claimed;
    std::atomic<std::uint64_t> oldest;   // the start of the oldest frame still intact
    std::atomic<std::uint64_t> written;  // messages committed: the next message's sequence
    std::atomic<std::uint64_t> latest;   // the start of the most recent message frame
    std::uint8_t writer_pad[block - 40];
    std::atomic<std::uint32_t> doorbell;  // bumped by the writer when a reader waits, and on close
    std::uint8_t doorbell_pad[block - 4];
};
static_assert(std::is_standard_layout_v<ByteBroadcastControl>);
static_assert(sizeof(ByteBroadcastControl) == 2 * block);
static_assert(offsetof(ByteBroadcastControl, tail) == 0);
static_assert(offsetof(ByteBroadcastControl, claimed) == 8);
static_assert(offsetof(ByteBroadcastControl, oldest) == 16);
static_assert(offsetof(ByteBroadcastControl, written) == 24);
static_assert(offsetof(ByteBroadcastControl, latest) == 32);
static_assert(offsetof(ByteBroadcastControl, doorbell) == block);

struct ByteBroadcastDescriptor {
    static constexpr ChannelKind kind = ChannelKind::byte_broadcast;
    static constexpr std::string_view name = "byte broadcast";
    static constexpr std::uint64_t control_size = sizeof(ByteBroadcastControl);
    static constexpr bool allows(Role role) { return role != Role::consumer; }
    static constexpr std::uint64_t min_capacity = ByteRingDescriptor::min_capacity;
    static constexpr std::uint64_t max_capacity = ByteRingDescriptor::max_capacity;
    static constexpr std::uint64_t slot_stride(std::uint64_t, std::uint64_t) { return 1; }
    // As a byte ring's: a frame of at most half the buffer, so the frames a reader may still
    // copy are never all overwritten by one message.
    static constexpr std::uint64_t max_message(std::uint64_t capacity) {
        return ByteRingDescriptor::max_message(capacity);
    }
};

}  // namespace shmrec::detail
