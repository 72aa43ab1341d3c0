// A named shared region: a mapping of POSIX shared memory or of a file, starting with the
// versioned header of detail/region_header.hpp. This is the untyped layer; users normally go
// through the typed channels (cell.hpp), which describe their record and geometry with a
// RegionSpec and keep the private Geometry copy this class validated.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "shmrec/detail/region_header.hpp"

namespace shmrec {

namespace detail {
struct RegionAccess;
struct RegionInternals;
}  // namespace detail

using detail::ChannelKind;
using detail::RegionState;
using detail::to_string;

enum class Backing : std::uint8_t {
    memory,  // POSIX shared memory (/dev/shm on Linux)
    file,    // a file on disk: the region survives a reboot
};

// Where a region lives. A plain string means POSIX shared memory by that name.
struct Location {
    Backing backing = Backing::memory;
    std::string name;  // shared-memory name, or file path for Backing::file

    Location(const char* shm_name) : name(shm_name) {}  // NOLINT: implicit on purpose
    Location(std::string shm_name) : name(std::move(shm_name)) {}  // NOLINT
    Location(Backing b, std::string n) : backing(b), name(std::move(n)) {}

    static Location memory(std::string shm_name) { return {Backing::memory, std::move(shm_name)}; }
    static Location file(std::string path) { return {Backing::file, std::move(path)}; }
};

// Whether a region's name still leads to the region a handle has mapped.
enum class RegionHealth : std::uint8_t {
    ok,
    unlinked,  // the name was removed (rm, systemd RemoveIPC): new participants cannot find us
    replaced,  // the name now leads to another region: new participants go there, not here
};

enum class OpenMode : std::uint8_t { create_only, open_only, open_or_create };
enum class Role : std::uint8_t {
    writer,    // the one process that publishes; maps read-write, holds the writer lock
    reader,    // an observer (cell, broadcast): maps the records read-only, any number
    consumer,  // the one reader of a ring: advances the read position, holds the reader lock
};

struct RegionOptions {
    // Mode bits of a new region, applied with fchmod so the umask cannot widen them.
    // 0600 by default; 0660 shares with the group.
    unsigned permissions = 0600;
    // How long an opener waits for a creator that is still initialising the region, and for a
    // region that is being reclaimed (removed as stale and created again) by another process.
    std::chrono::milliseconds init_timeout{2000};
    // How long an opener waits for the name to appear when it does not exist yet (a reader
    // started before its writer). 0: not_found at once.
    std::chrono::milliseconds wait_for_creator{0};
    // Writer: mark_closed() (a clean close of the channel) also removes the name, if it still
    // leads to this very region (never someone else's that took the name meanwhile).
    bool remove_on_close = false;
};

// What a creator writes into the header and an opener expects to find there.
struct RegionSpec {
    ChannelKind kind = ChannelKind::cell;
    std::string_view record_name;
    std::uint32_t record_size = 0;
    std::uint32_t record_alignment = 0;
    std::uint64_t fingerprint = 0;
    // Opener: accept another fingerprint; the caller then checks the embedded binary schema by
    // FlatBuffers' evolution rules (table records). Creator: ignored.
    bool schema_evolution = false;
    std::string_view schema;     // embedded for inspectors; not interpreted by openers
    // The record's binary schema (RecordTraits<T>::binary_schema, a FlatBuffers .bfbs):
    // embedded so tools decode records without generated code. Not interpreted by openers.
    std::span<const std::uint8_t> binary_schema;
    std::uint64_t capacity = 0;  // opener: 0 accepts any capacity the channel validates
    std::uint64_t slot_stride = 0;
    std::uint64_t data_size = 0;
};

// Private copy of the header's geometry, taken once and validated against the real mapping.
// Nothing read from shared memory later is trusted over it.
struct Geometry {
    std::uint64_t mapped_size = 0;
    std::uint64_t board_offset = 0;
    std::uint64_t board_size = 0;
    std::uint64_t data_offset = 0;
    std::uint64_t data_size = 0;
    std::uint64_t schema_offset = 0;
    std::uint64_t schema_length = 0;
    std::uint64_t binary_schema_offset = 0;  // 0 and 0: none embedded (a format 2.0 region)
    std::uint64_t binary_schema_length = 0;
    std::uint64_t capacity = 0;
    std::uint64_t slot_stride = 0;
};

// Identity of the process that created a region, as recorded in its header.
struct CreatorInfo {
    std::int32_t pid = 0;
    std::uint64_t start_time = 0;  // clock ticks since boot
    std::uint64_t creation_time_ns = 0;
};

// The process holding the writer role now, as the header records it (format 2.1). For
// people: liveness is Region::writer_alive(), never these figures.
struct WriterInfo {
    std::int32_t pid = 0;
    std::uint64_t start_time = 0;   // clock ticks since boot
    std::uint64_t since_ns = 0;     // when it took the role, ns since the epoch
    std::uint32_t generation = 0;   // writers that have held the role (1: the creator); 0: unknown
};

struct RegionInfo;

// Validates a region's format and geometry without expecting any particular channel or record
// type, and describes it (for inspectors such as the `shmrec` tool).
RegionInfo inspect_region(const Location& where, const RegionOptions& options = {});

class Region {
public:
    // Creates a new region (exclusive: fails with already_exists if the name is taken by a
    // region someone is attached to; a stale one, whose participants all died, is removed and
    // replaced), pre-allocates every page, writes the header, and publishes it as ready. The
    // creator holds the writer role.
    static Region create(const Location& where, const RegionSpec& spec,
                         const RegionOptions& options = {});

    // Opens an existing region and checks its header in layers (magic, format version, ABI,
    // state, kind, record type, geometry against the real size) before touching anything
    // else. A writer takes the writer role (writer_active if a live writer holds it) and maps
    // the region read-write; a reader maps it read-only except for the reader board; a
    // consumer takes the reader role (reader_active if a live consumer holds it) and maps the
    // region read-write.
    static Region open(const Location& where, Role role, const RegionSpec& expected,
                       const RegionOptions& options = {});

    Region(Region&&) noexcept;
    Region& operator=(Region&&) noexcept;
    Region(const Region&) = delete;
    Region& operator=(const Region&) = delete;
    ~Region();

    const std::string& name() const noexcept;
    Backing backing() const noexcept;
    Role role() const noexcept;
    const Geometry& geometry() const noexcept;
    CreatorInfo creator() const noexcept;

    std::string schema() const;  // a copy of the embedded schema text
    // A copy of the embedded binary schema; empty when none is embedded (format 2.0). Not
    // validated here: it was written by another process (shmrec::inspect validates it).
    std::vector<std::uint8_t> binary_schema() const;
    // The process holding the writer role now, or last (see WriterInfo).
    WriterInfo writer_info() const noexcept;

    // True while some process holds the writer role. Backed by a lock the kernel releases
    // when its holder dies (kill -9 included), so it is not fooled by pid reuse and does not
    // mistake a stopped (SIGSTOP) writer for a dead one.
    bool writer_alive() const noexcept;
    // The same for the consumer role of a ring.
    bool consumer_alive() const noexcept;
    // Readers (of a cell or broadcast) attached now: reader slots held by live processes. A
    // reader that died is not counted (its slot's lock went with it). System calls: one per
    // slot in use.
    std::uint32_t readers() const noexcept;

    // Looks the name up again (a system call): tells a live pair that new participants will
    // not find it, instead of a silent split-brain.
    RegionHealth health() const noexcept;

    RegionState state() const noexcept;
    // Writer only: marks the region closed (readers see a clean end of stream) and, with
    // RegionOptions::remove_on_close, removes the name if it still leads to this region.
    // Does nothing in a child that inherited the region through fork().
    void mark_closed() noexcept;

    // True in a child that inherited this region through fork(): its descriptors were blanked
    // out (the parent keeps its roles) and the typed handles refuse to work (fork_guard.hpp).
    bool forked() const noexcept;

    // False for a moved-from region: every other member requires a valid region.
    bool valid() const noexcept { return impl_ != nullptr; }

private:
    struct Impl;  // defined in region.cpp
    friend struct detail::RegionAccess;
    friend struct detail::RegionInternals;
    friend RegionInfo inspect_region(const Location& where, const RegionOptions& options);
    static std::optional<Region> try_create(const Location& where, const RegionSpec& spec,
                                            const RegionOptions& options);
    explicit Region(std::unique_ptr<Impl> impl) noexcept;
    std::unique_ptr<Impl> impl_;
};

// What Region::inspect found.
struct RegionInfo {
    std::string name;
    Backing backing = Backing::memory;
    std::uint16_t format_major = 0;
    std::uint16_t format_minor = 0;
    ChannelKind kind = ChannelKind::cell;
    std::string kind_name;
    RegionState state = RegionState::initialising;
    std::string record_name;
    std::uint32_t record_size = 0;
    std::uint32_t record_alignment = 0;
    std::uint64_t fingerprint = 0;
    Geometry geometry;
    CreatorInfo creator;
    WriterInfo writer;            // the current (or last) writer
    bool writer_alive = false;
    bool consumer_alive = false;  // a ring's consumer
    std::uint32_t readers = 0;    // attached readers of a cell or broadcast
    std::string schema;
    std::vector<std::uint8_t> binary_schema;  // empty: none embedded
};

// Removes the name (the memory lives on until every mapping is gone), whatever it leads to.
// Returns false when there was nothing to remove.
bool remove_region(const Location& where);

// What remove_idle_region() did.
enum class Removal : std::uint8_t {
    removed,
    not_found,
    writer_alive,  // a live writer holds the region: nothing removed
    not_a_region,  // empty, zero-filled, foreign or corrupt: nothing removed
    other_format,  // a shmrec region of another format or ABI, whose roles this build cannot
                   // check: nothing removed
};

// Removes the name only if it leads to a valid shmrec region with no live writer. It holds the
// region's writer role and its attached lock meanwhile, so no writer takes the region over and
// nobody reclaims and re-creates the name between the check and the removal; and it removes
// the name only while it still leads to that very region. Readers still attached keep their
// mappings. Throws Error for what keeps it from looking (permission, an untrusted object).
Removal remove_idle_region(const Location& where);

constexpr std::string_view to_string(Backing b) noexcept {
    switch (b) {
        case Backing::memory: return "memory";
        case Backing::file: return "file";
    }
    return "unknown";
}
constexpr std::string_view to_string(RegionHealth h) noexcept {
    switch (h) {
        case RegionHealth::ok: return "ok";
        case RegionHealth::unlinked: return "unlinked";
        case RegionHealth::replaced: return "replaced";
    }
    return "unknown";
}
constexpr std::string_view to_string(Removal r) noexcept {
    switch (r) {
        case Removal::removed: return "removed";
        case Removal::not_found: return "not_found";
        case Removal::writer_alive: return "writer_alive";
        case Removal::not_a_region: return "not_a_region";
        case Removal::other_format: return "other_format";
    }
    return "unknown";
}
constexpr std::string_view to_string(OpenMode m) noexcept {
    switch (m) {
        case OpenMode::create_only: return "create_only";
        case OpenMode::open_only: return "open_only";
        case OpenMode::open_or_create: return "open_or_create";
    }
    return "unknown";
}
constexpr std::string_view to_string(Role r) noexcept {
    switch (r) {
        case Role::writer: return "writer";
        case Role::reader: return "reader";
        case Role::consumer: return "consumer";
    }
    return "unknown";
}

// Validates a region name (portable characters, bounded length) or a file path; throws
// Error{invalid_name} naming what was wrong. Called before any system call.
void validate_location(const Location& where);

}  // namespace shmrec
