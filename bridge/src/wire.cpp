#include "wire.hpp"

#include <limits>

#include <fmt/format.h>
#include <shmrec/error.hpp>
#include <shmrec/inspect/record_schema.hpp>

namespace shmrec::bridge {

namespace {

constexpr std::size_t max_topic = 100;

bool is_power_of_two(std::uint32_t v) noexcept {
    return v != 0 && (v & (v - 1)) == 0;
}

}  // namespace

std::string topic_problem(std::string_view topic) {
    if (topic.empty()) return "a topic name cannot be empty";
    if (topic.size() > max_topic) {
        return fmt::format("topic '{}' is longer than {} characters", topic, max_topic);
    }
    if (topic.front() >= '0' && topic.front() <= '9') {
        return fmt::format("topic '{}' starts with a digit", topic);
    }
    for (const char c : topic) {
        const bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok) {
            return fmt::format("topic '{}' holds '{}': topic names are letters, digits and '_'",
                               topic, c);
        }
    }
    return {};
}

std::optional<std::string> check_identity(const Identity& identity) {
    const RecordType& t = identity.type;
    if (const std::string p = topic_problem(identity.topic); !p.empty()) return p;
    if (t.name.empty() || t.name.size() > max_record_name) {
        return fmt::format("a record name of {} bytes (1 to {} allowed)", t.name.size(),
                           max_record_name);
    }
    if (t.size == 0 || t.size > max_batch_bytes) {
        return fmt::format("record {} of {} bytes (1 to {} allowed)", t.name, t.size,
                           max_batch_bytes);
    }
    if (!is_power_of_two(t.alignment) || t.alignment > 64) {
        return fmt::format("record {} aligned to {} (a power of two up to 64 expected)", t.name,
                           t.alignment);
    }
    if (t.size % t.alignment != 0) {
        return fmt::format("record {} of {} bytes is not a multiple of its alignment {}", t.name,
                           t.size, t.alignment);
    }
    if (t.schema.size() > max_schema_bytes || t.binary_schema.size() > max_schema_bytes) {
        return fmt::format("record {} comes with a schema larger than {} bytes", t.name,
                           max_schema_bytes);
    }
    if (!t.binary_schema.empty()) {
        // The binary schema is embedded as received into the importer's region, where tools
        // decode records with it: it must be a valid schema with a struct of this name and size.
        try {
            (void)inspect::RecordSchema::load(t.binary_schema, t.name, t.size,
                                              fmt::format("topic '{}'", identity.topic));
        } catch (const Error& e) {
            return fmt::format("record {} comes with a binary schema that does not describe it: "
                               "{}",
                               t.name, e.what());
        }
    }
    if (identity.kind != SourceKind::broadcast && identity.kind != SourceKind::cell &&
        identity.kind != SourceKind::ring) {
        return fmt::format("a source of kind {} (0 broadcast, 1 cell or 2 ring expected)",
                           static_cast<std::uint32_t>(identity.kind));
    }
    if (identity.capacity == 0 || (identity.capacity & (identity.capacity - 1)) != 0 ||
        identity.capacity > (std::uint64_t{1} << 32)) {
        return fmt::format("a source capacity of {} records (a power of two up to 2^32 expected)",
                           identity.capacity);
    }
    return std::nullopt;
}

template <class Bytes>
std::optional<std::string> check_batch(const BasicBatch<Bytes>& batch, const RecordKey& expected) {
    const RecordKey& r = batch.record;
    if (r.name != expected.name || r.size != expected.size || r.alignment != expected.alignment ||
        r.fingerprint != expected.fingerprint) {
        return fmt::format("a batch of {}, the topic carries {}", describe(r), describe(expected));
    }
    if (batch.record_count == 0) return std::string("an empty batch");
    const std::uint64_t bytes = std::uint64_t{batch.record_count} * r.size;
    if (bytes != batch.records.size()) {
        return fmt::format("a batch of {} records of {} bytes carries {} bytes, not {}",
                           batch.record_count, r.size, batch.records.size(), bytes);
    }
    if (bytes > max_batch_bytes) {
        return fmt::format("a batch of {} bytes (at most {} accepted)", bytes, max_batch_bytes);
    }
    if (batch.first_position > std::numeric_limits<std::uint64_t>::max() - batch.record_count) {
        return fmt::format("a batch at position {} whose records would pass 2^64",
                           batch.first_position);
    }
    return std::nullopt;
}

template <class To, class From>
static To with_records(const From& from, typename To::Records records) {
    return {from.session,     from.source_epoch, from.record,       from.first_position,
            from.lost_before, from.record_count, std::move(records), from.from_oldest};
}

Batch copy_of(const BatchView& view) {
    return with_records<Batch>(view, {view.records.begin(), view.records.end()});
}

BatchView view_of(const Batch& batch) { return with_records<BatchView>(batch, batch.records); }

template std::optional<std::string> check_batch(const BatchView&, const RecordKey&);
template std::optional<std::string> check_batch(const Batch&, const RecordKey&);

std::uint64_t source_epoch(const CreatorInfo& creator) {
    // splitmix64's finaliser over each field in turn: any field changed changes the epoch.
    const auto mix = [](std::uint64_t z) {
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    };
    std::uint64_t h = mix(static_cast<std::uint32_t>(creator.pid));
    h = mix(h ^ creator.start_time);
    return mix(h ^ creator.creation_time_ns);
}

std::string_view to_string(SourceKind kind) {
    switch (kind) {
        case SourceKind::broadcast: return "broadcast";
        case SourceKind::cell: return "cell";
        case SourceKind::ring: return "ring";
    }
    return "broadcast";
}

std::string describe(const RecordKey& record) {
    return fmt::format("{} ({} bytes, aligned to {}, fingerprint {:#018x})", record.name,
                       record.size, record.alignment, record.fingerprint);
}

}  // namespace shmrec::bridge
