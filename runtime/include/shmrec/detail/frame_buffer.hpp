// The data area both byte channels share (ByteRing, ByteBroadcast): frames at 16-aligned byte
// positions of a power-of-two buffer, each starting with its state word (frame format in
// byte_ring_layout.hpp). Addresses come from the validated private geometry, never from
// shared words; positions count bytes since the channel was created.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "shmrec/detail/byte_ring_layout.hpp"

namespace shmrec::detail {

struct FrameBuffer {
    std::byte* buffer = nullptr;
    std::uint64_t mask = 0;
    unsigned capacity_log2 = 0;

    FrameBuffer() = default;
    FrameBuffer(std::byte* data, std::uint64_t capacity) noexcept
        : buffer(data),
          mask(capacity - 1),
          capacity_log2(static_cast<unsigned>(std::countr_zero(capacity))) {}

    std::uint64_t capacity() const noexcept { return mask + 1; }
    std::uint64_t offset(std::uint64_t position) const noexcept { return position & mask; }
    std::uint32_t lap(std::uint64_t position) const noexcept {
        return lap_tag(position, capacity_log2);
    }
    // The state word of the frame at `position` (16-aligned: always 8 bytes inside the buffer).
    std::atomic<std::uint64_t>& state(std::uint64_t position) const noexcept {
        return reinterpret_cast<FrameHeader*>(buffer + offset(position))->state;
    }
    // The whole header: only for a message frame, whose extent (>= 32) was checked to fit.
    FrameHeader& frame(std::uint64_t position) const noexcept {
        return *reinterpret_cast<FrameHeader*>(buffer + offset(position));
    }
    std::byte* body(std::uint64_t position) const noexcept {
        return buffer + offset(position) + frame_header_size;
    }
    // The padding a frame of `extent` bytes at `position` needs first: the rest of the buffer,
    // when the frame does not fit before its end.
    std::uint64_t padding_before(std::uint64_t position, std::uint64_t extent) const noexcept {
        const std::uint64_t left = capacity() - offset(position);
        return left < extent ? left : 0;
    }
};

// The extent of a committed frame of this lap at `position`, or 0 when the state word says
// anything else (not written, being written, another lap, or impossible: not a multiple of 16,
// past the buffer's end, padding that does not reach it, a message frame without room for
// its header).
inline std::uint64_t committed_extent(std::uint64_t state, std::uint64_t position,
                                      std::uint32_t lap, std::uint64_t capacity) noexcept {
    const std::int32_t extent = state_extent(state);
    if (extent <= 0 || (state_tag(state) & lap_tag_mask) != lap) return 0;
    const auto bytes = static_cast<std::uint64_t>(extent);
    const std::uint64_t room = capacity - (position & (capacity - 1));
    if (bytes % frame_alignment != 0 || bytes > room) return 0;
    const bool padding = (state_tag(state) & padding_tag_bit) != 0;
    if (padding ? bytes != room : bytes < 2 * frame_alignment) return 0;
    return bytes;
}

}  // namespace shmrec::detail
