// What every typed channel does to set itself up: describe its record and geometry for the
// region header, check a capacity, check a slotted geometry read from an untrusted header,
// and resolve an OpenMode into create and/or open.
#pragma once

#include <cstdint>
#include <string_view>

#include "shmrec/error.hpp"
#include "shmrec/record_traits.hpp"
#include "shmrec/region.hpp"

namespace shmrec::detail {

// The header description of a channel of `kind` carrying records of type T. A capacity (and
// data size) of 0 describes what an opener expects when the header decides them.
template <Record T>
RegionSpec record_spec(ChannelKind kind, std::uint64_t capacity, std::uint64_t slot_stride,
                       std::uint64_t data_size) noexcept {
    using Traits = RecordTraits<T>;
    RegionSpec s;
    s.kind = kind;
    s.record_name = Traits::name;
    s.record_size = static_cast<std::uint32_t>(sizeof(T));
    s.record_alignment = static_cast<std::uint32_t>(alignof(T));
    s.fingerprint = Traits::fingerprint;
    s.schema = Traits::schema;
    s.capacity = capacity;
    s.slot_stride = slot_stride;
    s.data_size = data_size;
    return s;
}

// Throws Error{invalid_argument} unless `capacity` is a power of two between 1 and 2^31.
void check_capacity(const Location& where, std::string_view channel, std::uint64_t capacity);

// Throws Error{corrupt_header} naming the region and the impossible values, unless the
// validated geometry has a valid capacity, the expected stride, and a data area of exactly
// control_size + capacity * slot_stride bytes. Called before any slot is addressed.
void check_slot_geometry(const Region& region, std::uint64_t control_size,
                         std::uint64_t slot_stride);

// create_only: create(); open_only: open(); open_or_create: create(), or open() when the name
// is taken by a live region.
template <class Create, class Open>
auto resolve_open_mode(OpenMode mode, Create&& create, Open&& open) -> decltype(create()) {
    if (mode == OpenMode::create_only) return create();
    if (mode == OpenMode::open_or_create) {
        try {
            return create();
        } catch (const Error& e) {
            if (e.code() != ErrorCode::already_exists) throw;
        }
    }
    return open();
}

}  // namespace shmrec::detail
