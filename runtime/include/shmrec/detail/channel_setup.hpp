// Setting up a channel of any kind: describe its record and geometry for the region header,
// create or open the region, and check a geometry read from an untrusted header before any
// slot is addressed. Once for every kind; the kinds differ only by their descriptor.
#pragma once

#include <cstdint>
#include <string_view>

#include "shmrec/detail/channel_descriptor.hpp"
#include "shmrec/error.hpp"
#include "shmrec/record_traits.hpp"
#include "shmrec/region.hpp"

namespace shmrec::detail {

// Geometry of records of type T in a channel described by D.
template <ChannelDescriptor D, Record T>
struct SlotGeometry {
    static constexpr std::uint64_t payload_offset = D::payload_offset(alignof(T));
    static constexpr std::uint64_t stride = D::slot_stride(sizeof(T), alignof(T));
};

// The header description of a channel of kind D carrying records of type T. A capacity of 0
// describes what an opener expects when the header decides it.
template <ChannelDescriptor D, Record T>
RegionSpec channel_spec(std::uint64_t capacity) noexcept {
    using Traits = RecordTraits<T>;
    RegionSpec s;
    s.kind = D::kind;
    s.record_name = Traits::name;
    s.record_size = static_cast<std::uint32_t>(sizeof(T));
    s.record_alignment = static_cast<std::uint32_t>(alignof(T));
    s.fingerprint = Traits::fingerprint;
    s.schema = Traits::schema;
    s.binary_schema = Traits::binary_schema;
    s.capacity = capacity;
    s.slot_stride = SlotGeometry<D, T>::stride;
    s.data_size = capacity == 0 ? 0 : data_size<D>(capacity, SlotGeometry<D, T>::stride);
    return s;
}

// Throws Error{invalid_argument} naming the region unless `capacity` is a power of two between
// `min_capacity` and `max_capacity`.
void check_capacity(const Location& where, std::string_view channel, std::uint64_t capacity,
                    std::uint64_t min_capacity, std::uint64_t max_capacity);

// Throws Error{corrupt_header} naming the region and the impossible values, unless the
// validated geometry has a valid capacity, the expected stride, and a data area of exactly
// control_size + capacity * slot_stride bytes. Called before any slot is addressed.
void check_slot_geometry(const Region& region, std::uint64_t control_size,
                         std::uint64_t slot_stride, std::uint64_t min_capacity,
                         std::uint64_t max_capacity);

template <ChannelDescriptor D, Record T>
Region create_channel(const Location& where, std::uint64_t capacity,
                      const RegionOptions& options) {
    check_capacity(where, D::name, capacity, D::min_capacity, D::max_capacity);
    return Region::create(where, channel_spec<D, T>(capacity), options);
}

template <ChannelDescriptor D, Record T>
Region open_channel(const Location& where, Role role, const RegionOptions& options) {
    Region region = Region::open(where, role, channel_spec<D, T>(0), options);
    check_slot_geometry(region, D::control_size, SlotGeometry<D, T>::stride, D::min_capacity,
                        D::max_capacity);
    return region;
}

// The writer's region. create_only: a new region; open_only: take over an existing one (its
// header decides the capacity); open_or_create: create, or open when the name is taken by a
// live region.
template <ChannelDescriptor D, Record T>
Region writer_region(const Location& where, std::uint64_t capacity, OpenMode mode,
                     const RegionOptions& options) {
    if (mode == OpenMode::open_only) return open_channel<D, T>(where, Role::writer, options);
    if (mode == OpenMode::create_only) return create_channel<D, T>(where, capacity, options);
    // The name can change hands between the two steps (a stale region reclaimed, a region
    // removed): already_exists then not_found means "try again", a few times.
    for (int attempt = 0;; ++attempt) {
        try {
            return create_channel<D, T>(where, capacity, options);
        } catch (const Error& e) {
            if (e.code() != ErrorCode::already_exists) throw;
        }
        try {
            return open_channel<D, T>(where, Role::writer, options);
        } catch (const Error& e) {
            if (e.code() != ErrorCode::not_found || attempt == 3) throw;
        }
    }
}

}  // namespace shmrec::detail
