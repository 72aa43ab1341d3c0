// Layout of a byte ring's data area (at RegionHeader::data_offset): variable-size messages,
// each in a frame of its own, one after the other in a buffer of `capacity` bytes (a power of
// two). Position p (a 64-bit byte count, never wrapping in practice, compared wrap-aware) is
// buffer offset p & (capacity - 1).
//
//   +0     ByteRingControl (1024 bytes): RingControl (tail, head, registries, doorbells; tail
//          and head count bytes), then the message counters, each in a block of its own
//   +1024  the buffer: frames, 16-aligned
//
// A frame starts with its state word, the only word a reader synchronises on:
//
//   message frame, `extent` bytes (a multiple of 16, at least 32):
//   +0   state:   int32 extent (negative while the writer fills it; 0: nothing yet)
//                 | uint32 tag (bit 31 clear: message; bits 0..30: lap of the frame's position)
//   +8   size:    uint32 payload bytes | uint32 payload offset from +24
//   +16  sequence: uint64, the message's number (0 for the first the ring ever carried)
//   +24  payload at +24 + offset, `size` bytes; the rest of the frame is slack
//
//   padding frame (the tail of the buffer that a message did not fit in):
//   +0   state:   int32 extent (to the end of the buffer) | uint32 tag (bit 31 set: padding)
//
// The tag's lap (position / capacity, 31 bits) tells a frame of this lap from the bytes of an
// older one at the same offset; a writer also clears the state word just past every frame it
// writes, when that word is free, so a reader never takes an older lap's payload bytes for a
// state word (docs/byte-ring-protocol.md has the argument and the byte diagram).
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "shmrec/detail/channel_descriptor.hpp"
#include "shmrec/detail/region_header.hpp"
#include "shmrec/detail/ring_layout.hpp"

namespace shmrec::detail {

// Message counters, each written by one side only, in blocks of their own (the writer's and the
// consumer's lines stay apart, as in RingControl).
struct ByteRingCounters {
    // Writer only: messages committed (the next message's sequence number). Published with
    // tail; a replacing writer continues from it.
    std::atomic<std::uint64_t> written;
    std::uint8_t writer_pad[block - 8];
    // Consumer only: messages consumed, published with head.
    std::atomic<std::uint64_t> read;
    std::uint8_t consumer_pad[block - 8];
};
static_assert(std::is_standard_layout_v<ByteRingCounters>);
static_assert(sizeof(ByteRingCounters) == 2 * block);
static_assert(offsetof(ByteRingCounters, read) == block);

struct ByteRingControl {
    RingControl ring;  // tail, claimed and head in bytes; registries and doorbells as a ring's
    ByteRingCounters messages;
};
static_assert(std::is_standard_layout_v<ByteRingControl>);
static_assert(sizeof(ByteRingControl) == 1024);
static_assert(offsetof(ByteRingControl, ring) == 0);
static_assert(offsetof(ByteRingControl, messages) == 6 * block);

inline constexpr std::uint64_t frame_alignment = 16;
inline constexpr std::uint64_t frame_header_size = 24;  // state, size, sequence
inline constexpr std::uint32_t padding_tag_bit = 0x8000'0000u;
inline constexpr std::uint32_t lap_tag_mask = 0x7fff'ffffu;

struct FrameHeader {
    std::atomic<std::uint64_t> state;
    std::uint64_t size;      // uint32 payload bytes | uint32 offset << 32
    std::uint64_t sequence;
};
static_assert(std::is_standard_layout_v<FrameHeader>);
static_assert(sizeof(FrameHeader) == frame_header_size);
static_assert(offsetof(FrameHeader, size) == 8);
static_assert(offsetof(FrameHeader, sequence) == 16);

// The frame a message of `payload` bytes needs.
constexpr std::uint64_t frame_extent(std::uint64_t payload) noexcept {
    return round_up_to(frame_header_size + payload, frame_alignment);
}

constexpr std::uint64_t pack_state(std::int32_t extent, std::uint32_t tag) noexcept {
    return static_cast<std::uint32_t>(extent) | (std::uint64_t{tag} << 32);
}
constexpr std::int32_t state_extent(std::uint64_t state) noexcept {
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(state));
}
constexpr std::uint32_t state_tag(std::uint64_t state) noexcept {
    return static_cast<std::uint32_t>(state >> 32);
}
constexpr std::uint64_t pack_size(std::uint32_t size, std::uint32_t offset) noexcept {
    return size | (std::uint64_t{offset} << 32);
}

struct ByteRingDescriptor {
    static constexpr ChannelKind kind = ChannelKind::byte_ring;
    static constexpr std::string_view name = "byte ring";
    static constexpr std::uint64_t control_size = sizeof(ByteRingControl);
    static constexpr bool allows(Role role) { return role != Role::reader; }
    // Capacity in bytes, a power of two: at least 64 (a frame and its padding), at most 2^31
    // (extents fit an int32).
    static constexpr std::uint64_t min_capacity = 64;
    static constexpr std::uint64_t max_capacity = std::uint64_t{1} << 31;
    // The header describes the buffer as `capacity` one-byte slots.
    static constexpr std::uint64_t slot_stride(std::uint64_t, std::uint64_t) { return 1; }
    // A message whose frame is at most half the buffer always fits once the ring drains, with
    // the padding that may precede it (padding < frame); a larger one could wait for ever.
    static constexpr std::uint64_t max_message(std::uint64_t capacity) {
        return capacity / 2 - frame_header_size;
    }
};

// The lap tag of a frame at `position` in a buffer of 2^capacity_log2 bytes.
constexpr std::uint32_t lap_tag(std::uint64_t position, unsigned capacity_log2) noexcept {
    return static_cast<std::uint32_t>(position >> capacity_log2) & lap_tag_mask;
}

}  // namespace shmrec::detail
