// Setting up a channel of any kind: describe its record and geometry for the region header,
// create or open the region, and check a geometry read from an untrusted header before any
// slot is addressed. Once for every kind; the kinds differ only by their descriptor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "shmrec/detail/channel_descriptor.hpp"
#include "shmrec/error.hpp"
#include "shmrec/record_traits.hpp"
#include "shmrec/region.hpp"

namespace shmrec::detail {

// Geometry of records of type T in a channel described by D: compile-time constants.
template <ChannelDescriptor D, Record T>
struct SlotGeometry {
    static constexpr std::size_t record_size = sizeof(T);
    static constexpr std::uint64_t payload_offset = D::payload_offset(alignof(T));
    static constexpr std::uint64_t stride = D::slot_stride(sizeof(T), alignof(T));
};

// The record "shape" of a handle whose record is known only at run time (untyped.hpp): the
// channel views and handle cores are instantiated with DynamicRecord in place of T and carry
// the same three figures as values (RuntimeSlots). Code reads them as `shape.stride` either
// way, so one template body serves both and the typed one keeps its constants.
struct DynamicRecord {};

struct RuntimeSlots {
    std::size_t record_size = 0;
    std::uint64_t payload_offset = 0;
    std::uint64_t stride = 0;
};

template <ChannelDescriptor D>
constexpr RuntimeSlots runtime_slots(std::uint32_t size, std::uint32_t alignment) noexcept {
    return {size, D::payload_offset(alignment), D::slot_stride(size, alignment)};
}

// The slot geometry type of a channel of kind D carrying R (a Record, or DynamicRecord).
template <ChannelDescriptor D, class R>
struct SlotsOf {
    using type = SlotGeometry<D, R>;
};
template <ChannelDescriptor D>
struct SlotsOf<D, DynamicRecord> {
    using type = RuntimeSlots;
};
template <ChannelDescriptor D, class R>
using SlotsFor = typename SlotsOf<D, R>::type;

// What the header says about a channel's record, from RecordTraits<T> or from a RecordType
// known at run time. Views: the strings must outlive the call they are passed to.
struct RecordIdentity {
    std::string_view name;
    std::uint32_t size = 0;
    std::uint32_t alignment = 0;
    std::uint64_t fingerprint = 0;
    std::string_view schema;
    std::span<const std::uint8_t> binary_schema;
    // Table records: openers compare the embedded schemas by evolution rules, not fingerprints.
    bool schema_evolution = false;
};

template <Record T>
constexpr RecordIdentity identity_of() noexcept {
    using Traits = RecordTraits<T>;
    return {Traits::name,        static_cast<std::uint32_t>(sizeof(T)),
            static_cast<std::uint32_t>(alignof(T)), Traits::fingerprint,
            Traits::schema,      Traits::binary_schema};
}

// The header description of a channel of kind D carrying `record`. A capacity of 0 describes
// what an opener expects when the header decides it.
template <ChannelDescriptor D>
RegionSpec channel_spec(const RecordIdentity& record, std::uint64_t capacity) noexcept {
    RegionSpec s;
    s.kind = D::kind;
    s.record_name = record.name;
    s.record_size = record.size;
    s.record_alignment = record.alignment;
    s.fingerprint = record.fingerprint;
    s.schema_evolution = record.schema_evolution;
    s.schema = record.schema;
    s.binary_schema = record.binary_schema;
    s.capacity = capacity;
    s.slot_stride = D::slot_stride(record.size, record.alignment);
    s.data_size = capacity == 0 ? 0 : data_size<D>(capacity, s.slot_stride);
    return s;
}
template <ChannelDescriptor D, Record T>
RegionSpec channel_spec(std::uint64_t capacity) noexcept {
    return channel_spec<D>(identity_of<T>(), capacity);
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

// Throws Error{invalid_argument} naming the region unless a run-time record description is
// one a channel can carry: a size of at least 1 byte, a power-of-two alignment of at most 64
// bytes, a name that fits the header. (A typed record is checked at compile time.)
void check_record(const Location& where, const RecordIdentity& record);

// Table records (record.schema_evolution): unless the region's fingerprint is ours, throws
// Error{incompatible_schema} naming the fields when the region's embedded schema (the writer's)
// cannot be read with ours by FlatBuffers' evolution rules (docs/schema-evolution.md), or
// Error{corrupt_schema} when there is none or it does not verify.
void check_schema_evolution(const Region& region, const RecordIdentity& record);

// check_slot_geometry with channel D's constants, for records of `size` and `alignment`.
template <ChannelDescriptor D>
void check_geometry(const Region& region, std::uint32_t size, std::uint32_t alignment) {
    check_slot_geometry(region, D::control_size, D::slot_stride(size, alignment), D::min_capacity,
                        D::max_capacity);
}

template <ChannelDescriptor D>
Region create_channel(const Location& where, const RecordIdentity& record, std::uint64_t capacity,
                      const RegionOptions& options) {
    check_capacity(where, D::name, capacity, D::min_capacity, D::max_capacity);
    return Region::create(where, channel_spec<D>(record, capacity), options);
}

template <ChannelDescriptor D>
Region open_channel(const Location& where, Role role, const RecordIdentity& record,
                    const RegionOptions& options) {
    Region region = Region::open(where, role, channel_spec<D>(record, 0), options);
    check_geometry<D>(region, record.size, record.alignment);
    if (record.schema_evolution) check_schema_evolution(region, record);
    return region;
}

// The writer's region. create_only: a new region; open_only: take over an existing one (its
// header decides the capacity); open_or_create: create, or open when the name is taken by a
// live region.
template <ChannelDescriptor D>
Region writer_region(const Location& where, const RecordIdentity& record, std::uint64_t capacity,
                     OpenMode mode, const RegionOptions& options) {
    if (mode == OpenMode::open_only) return open_channel<D>(where, Role::writer, record, options);
    if (mode == OpenMode::create_only) return create_channel<D>(where, record, capacity, options);
    // The name can change hands between the two steps (a stale region reclaimed, a region
    // removed): already_exists then not_found means "try again", a few times.
    for (int attempt = 0;; ++attempt) {
        try {
            return create_channel<D>(where, record, capacity, options);
        } catch (const Error& e) {
            if (e.code() != ErrorCode::already_exists) throw;
        }
        try {
            return open_channel<D>(where, Role::writer, record, options);
        } catch (const Error& e) {
            if (e.code() != ErrorCode::not_found || attempt == 3) throw;
        }
    }
}

// The same for a record type known at compile time.
template <ChannelDescriptor D, Record T>
Region open_channel(const Location& where, Role role, const RegionOptions& options) {
    return open_channel<D>(where, role, identity_of<T>(), options);
}
template <ChannelDescriptor D, Record T>
Region writer_region(const Location& where, std::uint64_t capacity, OpenMode mode,
                     const RegionOptions& options) {
    return writer_region<D>(where, identity_of<T>(), capacity, mode, options);
}

}  // namespace shmrec::detail
