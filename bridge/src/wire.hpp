// What shmrec-bridge sends, independent of the engine that carries it (docs/bridge.md,
// "Wire format"): the identity of a topic's records and the batches of records. The engine's
// own encoding of these (bridge/idl/shmrec_bridge.idl for Cyclone DDS) lives in its transport.
//
// Everything received from the network is untrusted: check_identity() and check_batch() are
// the only gates between a received message and a region, and they say in one sentence what
// was wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <shmrec/untyped.hpp>

namespace shmrec::bridge {

// The kind of region a topic's records come from, and the importer makes: every record of a
// broadcast; the latest value of a cell (an importer writes each one it receives, and
// superseded ones are not losses); every record of a ring, which the exporter consumes and
// the importer writes losslessly, the backpressure of B's ring reaching A's writer.
enum class SourceKind : std::uint32_t { broadcast = 0, cell = 1, ring = 2 };

// What a topic carries: the exporter's region type, as the region embeds it.
struct Identity {
    std::string topic;           // the data topic, T
    std::string region;          // the source region's name on the exporting host
    RecordType type;             // name, size, alignment, fingerprint, schema, binary schema
    std::uint64_t capacity = 0;  // the source broadcast's capacity, in records
    std::uint64_t session = 0;   // random, new for every exporter run
    // Which creation of the source region (source_epoch()): positions are comparable only
    // within one epoch. A region removed and created again starts a new one at position 0.
    std::uint64_t source_epoch = 0;
    SourceKind kind = SourceKind::broadcast;
};

// What every batch repeats of its identity, so each one is checked on its own.
struct RecordKey {
    std::string name;
    std::uint32_t size = 0;
    std::uint32_t alignment = 0;
    std::uint64_t fingerprint = 0;

    static RecordKey of(const RecordType& type) {
        return {type.name, type.size, type.alignment, type.fingerprint};
    }
};

// Records at consecutive source positions [first_position, first_position + record_count),
// back to back. A view lends its bytes (the exporter's buffer, an engine's received sample);
// a Batch owns them.
template <class Bytes>
struct BasicBatch {
    using Records = Bytes;

    std::uint64_t session = 0;
    std::uint64_t source_epoch = 0;  // Identity::source_epoch of the region they come from
    RecordKey record;
    std::uint64_t first_position = 0;
    std::uint64_t lost_before = 0;  // records the exporter lost (lapped) right before this one
    std::uint32_t record_count = 0;
    Bytes records;
    // The first batch read after the exporter opened (or reopened) the region at its oldest
    // record: a receiver's positions missing before it are lost at the source, not on the way.
    bool from_oldest = false;
};
using BatchView = BasicBatch<std::span<const std::byte>>;
using Batch = BasicBatch<std::vector<std::byte>>;

// What an importer of a ring has written (every source position before next_position), for
// the exporter that sent it: it consumes the ring's records only then.
struct Written {
    std::uint64_t session = 0;  // the exporter's (Identity::session)
    std::uint64_t source_epoch = 0;
    std::uint64_t next_position = 0;
};

// A batch holding a copy of the view's records, and a view of a batch's.
Batch copy_of(const BatchView& view);
BatchView view_of(const Batch& batch);

// The largest batch the bridge sends or accepts, in bytes of records.
inline constexpr std::size_t max_batch_bytes = 1 << 20;
// Record names longer than the region header holds are refused (untyped.hpp).
inline constexpr std::size_t max_record_name = 111;
// An embedded schema larger than this is refused.
inline constexpr std::size_t max_schema_bytes = 1 << 20;

// Why `topic` is not a topic name, empty when it is one: 1..100 characters of letters, digits
// and '_', not starting with a digit (the DDS topic-name rules as Cyclone DDS 0.10 enforces
// them, without the '/' the bridge uses to build its own topic names from T).
std::string topic_problem(std::string_view topic);

// Why a received identity cannot be used (a record no channel can carry, sizes out of
// range); nullopt when it is well-formed.
std::optional<std::string> check_identity(const Identity& identity);

// Why a received batch cannot be written into a region of `expected` records: another record,
// a byte length that is not record_count * size, too large, positions that would overflow.
// (Defined for BatchView and Batch.)
template <class Bytes>
std::optional<std::string> check_batch(const BasicBatch<Bytes>& batch, const RecordKey& expected);

// The epoch of the region a reader or writer has open: its creator's pid and start time and
// the creation time, mixed into 64 bits.
std::uint64_t source_epoch(const CreatorInfo& creator);

// "school.Student (32 bytes, aligned to 8, fingerprint 0xd69b7e078e1d4063)"
std::string describe(const RecordKey& record);
// "broadcast", "cell", "ring"
std::string_view to_string(SourceKind kind);

}  // namespace shmrec::bridge
