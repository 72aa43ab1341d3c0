// Region: creating, opening, validating and mapping a named region, and its role locks.
//
// No system call here: the OS is reached through the platform layer (platform/*.hpp,
// implemented in posix/ and windows/), the mapping through Boost.Interprocess.
#include "shmrec/region.hpp"

#include <boost/interprocess/exceptions.hpp>
#include <boost/interprocess/mapped_region.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "platform/fork_guard.hpp"
#include "platform/lock_slots.hpp"
#include "platform/memory_object.hpp"
#include "platform/process.hpp"
#include "platform/shared_object.hpp"
#include "platform/system_error.hpp"
#include "platform/wake_scope.hpp"
#include "region_header_io.hpp"
#include "region_names.hpp"
#include "shmrec/detail/event_word.hpp"
#include "shmrec/detail/fault.hpp"
#include "shmrec/detail/fork_guard.hpp"
#include "shmrec/detail/region_access.hpp"
#include "shmrec/detail/word_copy.hpp"
#include "shmrec/error.hpp"
#include "stale_region.hpp"

namespace bip = boost::interprocess;

namespace shmrec {

namespace {

using detail::display_name;
using platform::NameLookup;

std::uint64_t os_page_size() {
    return static_cast<std::uint64_t>(bip::mapped_region::get_page_size());
}

[[noreturn]] void throw_boost(const bip::interprocess_exception& e, const Location& where,
                              std::string_view doing) {
    platform::throw_system_error(where, doing, e.get_native_error(), e.what());
}

void throw_untrusted(const Location& where, std::string_view why) {
    throw Error(ErrorCode::untrusted_region, where.name,
                fmt::format("{} {}", display_name(where), why));
}

// Removes the name only while it still leads to `ours`: never someone else's region. (There
// is no unlink-if-this-object call, so a replacement made in the instant between the look-up
// and the removal would be removed; nothing in shmrec replaces a name that has a live user.)
bool remove_if_ours(const Location& where, const std::optional<platform::ObjectId>& ours) noexcept {
    if (!ours) return false;
    if (platform::compare_with_name(where, *ours) != NameLookup::Result::same) return false;
    return platform::remove_name(where);
}

// The name is taken and was not stale: say precisely by what. Returns when nothing is at the
// name any more (a reclaim between our attempt and this look-up): the caller tries again.
void throw_if_taken(const Location& where) {
    int err = 0;
    const platform::OwnedHandle h = platform::open_existing(where, false, err);
    if (!h) {
        if (platform::is_not_found(err)) return;
        if (platform::error_code_for(err) == ErrorCode::untrusted_region) {
            throw_untrusted(where, "is taken by a symbolic link; refusing to follow it");
        }
    } else if (const auto why = platform::untrusted_reason(h.get())) {
        throw_untrusted(where, fmt::format("is taken by an object that is not ours: it {}", *why));
    }
    throw Error(ErrorCode::already_exists, where.name,
                fmt::format("{} already exists and is in use (open it instead, or stop its "
                            "users first)",
                            display_name(where)));
}

// Takes a role's lock slot (writer, consumer). A publisher reaping the registration of a
// waiter that died holds that waiter's slot for the span of two system calls
// (detail/waiter_registry.hpp), so a refusal is retried briefly before it counts as a live
// holder. A holder that is no participant at all (Windows: a token squatted by someone else)
// is untrusted_region, not a live writer or reader.
bool take_role_lock(platform::LockSlots& locks, platform::LockSlot slot, const Location& where) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
    while (!locks.try_lock_exclusive(slot)) {
        if (std::chrono::steady_clock::now() >= until) {
            if (const auto why = locks.foreign_holder(slot)) {
                throw_untrusted(where, fmt::format("cannot be joined: its {}", *why));
            }
            return false;
        }
        detail::sleep_at_least(std::chrono::microseconds(200));
    }
    return true;
}

}  // namespace

struct Region::Impl {
    Location where;
    Role role = Role::reader;
    std::variant<std::monostate, platform::MemoryObject, platform::FileMapping> object;
    platform::OwnedHandle file_handle;  // file backing: our own no-follow handle (locks, identity)
    platform::LockSlots locks;          // on fd(); released before the handles close
    std::optional<platform::ObjectId> id;  // the object we opened, whatever the name leads to
    bool remove_on_close = false;           // writer: RegionOptions::remove_on_close
    bip::mapped_region mapping;        // the whole region (read-only for a reader)
    bip::mapped_region board_mapping;  // a reader's writable board page
    Geometry geometry;
    CreatorInfo creator;
    detail::ReaderBoard* board = nullptr;
    std::uint32_t reader_slot = detail::max_readers;  // Role::reader: the reader slot it holds
    bool created = false;                             // made by Region::create, not opened
    std::vector<platform::Handle> tracked;  // handles registered with the fork guard
    std::uint32_t fork_generation = detail::fork_generation();  // this process's, at open

    explicit Impl(Location w) : where(std::move(w)) {}
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    ~Impl() {
        for (const auto h : tracked) platform::untrack_handle(h);
        for (const auto* m : {&mapping, &board_mapping}) {
            if (m->get_address() == nullptr) continue;
            platform::untrack_mapping(m->get_address());
            platform::unregister_wake_scope(m->get_address());
        }
    }

    // Every handle of the region is blanked out in a forked child (platform/fork_guard.hpp).
    void track(platform::Handle h) {
        platform::track_handle(h);
        tracked.push_back(h);
    }

    platform::Handle fd() const {
        if (file_handle) return file_handle.get();
        return platform::handle_of(std::get<platform::MemoryObject>(object));
    }

    // The region object is open (fd() is valid): register it, name its lock slots, note its
    // identity.
    void opened() {
        track(fd());
        locks = platform::LockSlots(fd(), where);
        id = platform::identity(fd());
    }

    // Whether the name still leads to the object we opened (defect 1 of issue 8: an object
    // reclaimed as stale and replaced between our open and our locks is not the region).
    NameLookup::Result at_name() const noexcept {
        if (!id) return NameLookup::Result::unknown;
        return platform::compare_with_name(where, *id);
    }

    void map(bip::mode_t mode) {
        try {
            if (auto* shm = std::get_if<platform::MemoryObject>(&object)) {
                mapping = bip::mapped_region(*shm, mode);
            } else {
                mapping = bip::mapped_region(std::get<platform::FileMapping>(object), mode);
            }
        } catch (const bip::interprocess_exception& e) {
            throw_boost(e, where, "mmap");
        }
        platform::track_mapping(mapping.get_address(), mapping.get_size());
        platform::register_wake_scope(mapping.get_address(), mapping.get_size(), 0, fd(), where);
    }

    void map_board() {
        try {
            const auto offset = static_cast<bip::offset_t>(geometry.board_offset);
            const auto size = static_cast<std::size_t>(geometry.board_size);
            if (auto* shm = std::get_if<platform::MemoryObject>(&object)) {
                board_mapping = bip::mapped_region(*shm, bip::read_write, offset, size);
            } else {
                board_mapping = bip::mapped_region(std::get<platform::FileMapping>(object),
                                                   bip::read_write, offset, size);
            }
        } catch (const bip::interprocess_exception& e) {
            throw_boost(e, where, "mmap of the reader board");
        }
        platform::track_mapping(board_mapping.get_address(), board_mapping.get_size());
        platform::register_wake_scope(board_mapping.get_address(), board_mapping.get_size(),
                                      geometry.board_offset, fd(), where);
        board = static_cast<detail::ReaderBoard*>(board_mapping.get_address());
    }

    // File backing maps our own handle (platform::map_file_object), the one whose identity,
    // owner and locks were checked: nothing can be swapped in between. `permissions`: the
    // creator's; empty for an opener.
    void open_file_mapping(std::optional<unsigned> permissions) {
        object.emplace<platform::FileMapping>(
            platform::map_file_object(file_handle.get(), where, permissions));
    }
};

// The implementation, named for this file's helpers (Region::Impl is private).
struct detail::RegionInternals {
    using Impl = Region::Impl;
};
using RegionImpl = detail::RegionInternals::Impl;

Region::Region(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Region::Region(Region&&) noexcept = default;
Region& Region::operator=(Region&&) noexcept = default;
Region::~Region() = default;

Region Region::create(const Location& where, const RegionSpec& spec,
                      const RegionOptions& options) {
    validate_location(where);
    if (spec.record_name.empty() || spec.record_name.size() >= detail::max_record_name) {
        throw Error(ErrorCode::invalid_argument, where.name,
                    fmt::format("{}: record type name '{}' must be 1 to {} characters",
                                display_name(where), spec.record_name,
                                detail::max_record_name - 1));
    }
    if (spec.data_size == 0 || (options.permissions & ~0777u) != 0) {
        throw Error(ErrorCode::invalid_argument, where.name,
                    fmt::format("{}: impossible geometry or permissions {:o}",
                                display_name(where), options.permissions));
    }
    const auto deadline = std::chrono::steady_clock::now() + options.init_timeout;
    for (;;) {
        if (auto region = try_create(where, spec, options)) return std::move(*region);
        // The name is taken. A region nobody is attached to any more (every participant died)
        // is stale: remove it and create afresh, so a crash never needs a manual
        // `rm /dev/shm/...`. The removed one stays locked (`held`) until ours exists.
        detail::HeldRegion held;
        switch (detail::remove_if_stale(where, options.init_timeout, held)) {
            case detail::StaleCheck::removed:
                SHMREC_FAULT_POINT("reclaim.after_remove");
                if (auto region = try_create(where, spec, options)) return std::move(*region);
                break;  // somebody else created it in between: look again
            case detail::StaleCheck::absent:
                break;  // removed by someone else in between: try again
            case detail::StaleCheck::not_stale:
                throw_if_taken(where);  // returns only when the name has gone meanwhile
                break;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            throw_if_taken(where);
            throw Error(ErrorCode::init_timeout, where.name,
                        fmt::format("{}: the name kept changing hands for {} ms (regions created "
                                    "and removed concurrently)",
                                    display_name(where), options.init_timeout.count()));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

std::optional<Region> Region::try_create(const Location& where, const RegionSpec& spec,
                                         const RegionOptions& options) {
    auto impl = std::make_unique<Impl>(where);
    impl->role = Role::writer;
    impl->created = true;
    impl->remove_on_close = options.remove_on_close;
    impl->geometry = detail::plan_geometry(spec, os_page_size());

    // Exclusive create, never following a symlink, with exactly the permissions asked for.
    if (where.backing == Backing::memory) {
        auto object = platform::create_memory_object(where, impl->geometry.mapped_size,
                                                     options.permissions);
        if (!object) return std::nullopt;
        impl->object = std::move(*object);
    } else {
        auto handle = platform::create_file_exclusive(where, options.permissions);
        if (!handle) return std::nullopt;
        impl->file_handle = std::move(*handle);
    }
    impl->opened();

    // From here on a failure removes the half-made region again, if the name still leads to it.
    try {
        SHMREC_FAULT_POINT("create.before_locks");
        // Attached and writer locks first, before the region is even sized: a process that
        // finds the name now sees a live participant and waits for `ready` instead of taking
        // the half-made region for a stale one. A stale-region probe may hold the attached
        // lock for a moment (it then finds us `initialising` and young, and lets go).
        const auto lock_deadline = std::chrono::steady_clock::now() + options.init_timeout;
        while (!impl->locks.try_lock_shared(platform::attached_lock_byte)) {
            if (std::chrono::steady_clock::now() >= lock_deadline) {
                throw Error(ErrorCode::init_timeout, where.name,
                            fmt::format("{}: another process held it for removal for {} ms "
                                        "while it was being created",
                                        display_name(where), options.init_timeout.count()));
            }
            detail::sleep_at_least(std::chrono::microseconds(100));
        }
        // A creator stalled between its exclusive create and its locks for longer than
        // init_timeout may have had its fresh object reclaimed as stale, and the name given to
        // another region: then this object is nobody's region. Give it up and let create()
        // look at the name again (defect 1 of issue 8).
        if (const auto at_name = impl->at_name();
            at_name == NameLookup::Result::absent || at_name == NameLookup::Result::other) {
            return std::nullopt;  // our object is unlinked: nothing of ours to remove
        }
        // Nobody else can hold it on a new object, except (Windows, where the writer's token
        // is named after the region, not the object) a writer of a predecessor whose handles
        // the kernel is still closing: retried briefly like any role lock.
        if (!take_role_lock(impl->locks, platform::writer_lock_byte, where)) {
            throw Error(ErrorCode::writer_active, where.name,
                        fmt::format("{}: a writer of an earlier region of this name still "
                                    "holds the writer role",
                                    display_name(where)));
        }
        SHMREC_FAULT_POINT("create.after_open");
        platform::preallocate(impl->fd(), impl->geometry.mapped_size, where);
        SHMREC_FAULT_POINT("create.after_fallocate");
        if (where.backing == Backing::file) impl->open_file_mapping(options.permissions);
        impl->map(bip::read_write);
    } catch (...) {
        remove_if_ours(where, impl->id);
        throw;
    }

    auto* base = static_cast<std::byte*>(impl->mapping.get_address());
    const auto me = platform::current_process();
    detail::write_header(base, spec, impl->geometry, me);
    SHMREC_FAULT_POINT("create.before_ready");
    impl->creator = {me.pid, me.start_time, reinterpret_cast<detail::RegionHeader*>(base)->creation_time_ns};
    impl->board = reinterpret_cast<detail::ReaderBoard*>(base + impl->geometry.board_offset);
    // Publish last. Release pairs with the acquire load in Region::open (take_snapshot and
    // the initialisation wait): an opener that sees `ready` sees every header field and the
    // zero-filled channel area written before it.
    reinterpret_cast<detail::RegionHeader*>(base)->state.store(
        static_cast<std::uint32_t>(RegionState::ready), std::memory_order_release);
    return Region(std::move(impl));
}

// Opens the region's file or shared-memory object by name; null when the name does not exist.
// Readers open read-write too, for the reader board and the lock queries; their view of the
// records is mapped read-only.
static std::unique_ptr<RegionImpl> open_object(const Location& where, Role role) {
    auto impl = std::make_unique<RegionImpl>(where);
    impl->role = role;
    if (where.backing == Backing::memory) {
        auto object = platform::open_memory_object(where);
        if (!object) return nullptr;
        impl->object = std::move(*object);
    } else {
        auto handle = platform::open_file(where);
        if (!handle) return nullptr;
        impl->file_handle = std::move(*handle);
    }
    impl->opened();
    return impl;
}

// Opens, maps and validates an existing region; everything role-specific is left to the
// caller. A null `expected` checks format and geometry only (inspection).
static std::unique_ptr<RegionImpl> open_validated(const Location& where, Role role,
                                                   const RegionSpec* expected,
                                                   const RegionOptions& options,
                                                   detail::HeaderSnapshot& snapshot) {
    validate_location(where);
    const std::string shown = display_name(where);
    const auto start = std::chrono::steady_clock::now();
    auto deadline = start + options.init_timeout;
    const auto creator_deadline = start + std::max(options.wait_for_creator,
                                                   std::chrono::milliseconds(0));
    bool found = false;
    bool reclaim_seen = false;  // the name changed hands under us: a reclaim is in progress
    std::unique_ptr<RegionImpl> impl;
    for (;;) {
        impl = open_object(where, role);
        const auto now = std::chrono::steady_clock::now();
        if (!impl) {
            // Nothing at the name. A reclaimer between its removal of a stale region and its
            // creation of the new one looks the same as no region at all: retry until
            // init_timeout once we have seen the name change hands, and for wait_for_creator
            // in any case (a reader started before its writer).
            if ((reclaim_seen && now < deadline) || now < creator_deadline) {
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
                continue;
            }
            if (reclaim_seen) {
                throw Error(ErrorCode::not_found, where.name,
                            fmt::format("{} was removed as stale and nobody created it again "
                                        "within {} ms",
                                        shown, options.init_timeout.count()));
            }
            if (options.wait_for_creator.count() > 0) {
                throw Error(ErrorCode::not_found, where.name,
                            fmt::format("{} does not exist (waited {} ms for its creator; is "
                                        "the writer running?)",
                                        shown, options.wait_for_creator.count()));
            }
            throw Error(ErrorCode::not_found, where.name,
                        fmt::format("{} does not exist (is the writer running?)", shown));
        }
        if (!found) {
            found = true;  // the initialisation wait starts when the creator has made the name
            deadline = std::max(deadline, now + options.init_timeout);
        }
        SHMREC_FAULT_POINT("open.after_open");
        // Every participant holds the attached lock (shared). It fails only while another
        // process holds it exclusively, to remove a stale region: open the name again. Taken,
        // it keeps the object from being reclaimed from now on; but it may have been reclaimed
        // (and the name given to a new region) between our open and our lock: then this object
        // is nobody's region, and writing into it would be a split-brain (defect 1 of issue 8).
        if (impl->locks.try_lock_shared(platform::attached_lock_byte)) {
            const auto at_name = impl->at_name();
            if (at_name == NameLookup::Result::same || at_name == NameLookup::Result::unknown) {
                break;
            }
        }
        reclaim_seen = true;
        if (std::chrono::steady_clock::now() >= deadline) {
            throw Error(ErrorCode::init_timeout, where.name,
                        fmt::format("{} is being removed as stale by another process and was "
                                    "not replaced within {} ms",
                                    shown, options.init_timeout.count()));
        }
        impl.reset();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const auto fd = impl->fd();
    if (const auto why = platform::untrusted_reason(fd)) throw_untrusted(where, *why);

    // A creator first makes an empty file, then sizes it, then writes the header: wait a
    // bounded time for it to get that far, then tell "never finished" from "corrupt".
    std::uint64_t size = platform::object_size(fd, where);
    while (size == 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        size = platform::object_size(fd, where);
    }
    if (size == 0) {
        throw Error(ErrorCode::init_timeout, where.name,
                    fmt::format("{} is empty: its creator never finished initialising it "
                                "(waited {} ms)",
                                shown, options.init_timeout.count()));
    }
    if (size < sizeof(detail::RegionHeader)) {
        throw Error(ErrorCode::truncated, where.name,
                    fmt::format("{} is truncated: {} bytes, smaller than the {}-byte header", shown,
                                size, sizeof(detail::RegionHeader)));
    }
    if (where.backing == Backing::file) {
        // Read-write for every role: a reader maps its board page writable from this object
        // (its view of the records is still mapped read-only below).
        impl->open_file_mapping(std::nullopt);
    }
    const bool writable = role != Role::reader;
    impl->map(writable ? bip::read_write : bip::read_only);
    if (impl->mapping.get_size() < size) size = impl->mapping.get_size();
    const auto* header = static_cast<const detail::RegionHeader*>(impl->mapping.get_address());

    for (;;) {
        // Acquire pairs with the creator's release store of `ready` in Region::create.
        const auto state = header->state.load(std::memory_order_acquire);
        if (state != static_cast<std::uint32_t>(RegionState::initialising)) break;
        // A creator writes the magic before `ready`; a foreign magic will never become ready.
        const auto magic = detail::load_word(&header->magic);
        if (magic != 0 && magic != detail::region_magic) break;
        if (std::chrono::steady_clock::now() >= deadline) {
            // A zero magic: no creator has written anything (a zero-filled file is no region).
            if (magic == 0) {
                throw Error(ErrorCode::init_timeout, where.name,
                            fmt::format("{} is zero-filled after {} ms: not a shmrec region, or "
                                        "its creator never wrote the header",
                                        shown, options.init_timeout.count()));
            }
            throw Error(ErrorCode::init_timeout, where.name,
                        fmt::format("{}: its creator never finished initialising it (state still "
                                    "'initialising' after {} ms; creator pid {})",
                                    shown, options.init_timeout.count(),
                                    std::atomic_ref<std::int32_t>(
                                        const_cast<detail::RegionHeader*>(header)->creator_pid)
                                        .load(std::memory_order_relaxed)));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }

    snapshot = detail::take_snapshot(*header);
    impl->geometry = detail::validate_header(
        snapshot, size, expected, shown, os_page_size(),
        {static_cast<const std::byte*>(impl->mapping.get_address()), size});
    impl->creator = {snapshot.creator_pid, snapshot.creator_start_time, snapshot.creation_time_ns};
    return impl;
}

Region Region::open(const Location& where, Role role, const RegionSpec& expected,
                    const RegionOptions& options) {
    detail::HeaderSnapshot snapshot{};
    auto impl = open_validated(where, role, &expected, options, snapshot);
    const std::string shown = display_name(where);

    if (role == Role::writer) {
        if (!take_role_lock(impl->locks, platform::writer_lock_byte, where)) {
            throw Error(ErrorCode::writer_active, where.name,
                        fmt::format("{} already has a live writer", shown));
        }
        impl->remove_on_close = options.remove_on_close;
        auto* base = static_cast<std::byte*>(impl->mapping.get_address());
        impl->board = reinterpret_cast<detail::ReaderBoard*>(base + impl->geometry.board_offset);
        detail::record_writer(*reinterpret_cast<detail::RegionHeader*>(base),
                              platform::current_process());
        // A new writer re-opens a closed region for business.
        reinterpret_cast<detail::RegionHeader*>(base)->state.store(
            static_cast<std::uint32_t>(RegionState::ready), std::memory_order_release);
    } else if (role == Role::consumer) {
        if (!take_role_lock(impl->locks, platform::consumer_lock_byte, where)) {
            throw Error(ErrorCode::reader_active, where.name,
                        fmt::format("{} already has a live reader (a ring has exactly one)", shown));
        }
        auto* base = static_cast<std::byte*>(impl->mapping.get_address());
        impl->board = reinterpret_cast<detail::ReaderBoard*>(base + impl->geometry.board_offset);
    } else {
        impl->map_board();
        // Every reader holds a slot of the board: its liveness and its waiter registration
        // (detail/waiter_registry.hpp).
        for (std::uint32_t i = 0; i < detail::max_readers; ++i) {
            if (impl->locks.try_lock_exclusive(detail::reader_lock_slot(i))) {
                impl->reader_slot = i;
                break;
            }
        }
        if (impl->reader_slot == detail::max_readers) {
            throw Error(ErrorCode::reader_limit, where.name,
                        fmt::format("{} already has {} live readers, the most a region takes",
                                    shown, detail::max_readers));
        }
    }
    return Region(std::move(impl));
}

RegionInfo inspect_region(const Location& where, const RegionOptions& options) {
    detail::HeaderSnapshot h{};
    auto impl = open_validated(where, Role::reader, nullptr, options, h);
    RegionInfo info;
    info.backing = where.backing;
    info.name = where.name;
    info.format_major = h.format_major;
    info.format_minor = h.format_minor;
    info.kind = static_cast<ChannelKind>(h.channel_kind);
    info.kind_name = std::string(detail::kind_name(h.channel_kind));
    info.state = static_cast<RegionState>(h.state);
    info.record_name = h.record_name;  // validated: NUL-terminated
    info.record_size = h.record_size;
    info.record_alignment = h.record_alignment;
    info.fingerprint = h.fingerprint;
    info.geometry = impl->geometry;
    info.creator = impl->creator;
    Region region(std::move(impl));
    info.writer = region.writer_info();
    info.writer_alive = region.writer_alive();
    info.consumer_alive = region.consumer_alive();
    info.readers = region.readers();
    info.schema = region.schema();
    info.binary_schema = region.binary_schema();
    return info;
}

bool remove_region(const Location& where) {
    validate_location(where);
    return platform::remove_name(where);
}

Removal remove_idle_region(const Location& where) {
    detail::HeaderSnapshot h{};
    RegionOptions at_once;
    at_once.init_timeout = std::chrono::milliseconds(0);
    std::unique_ptr<RegionImpl> impl;
    try {
        // Validated, and holding the attached lock: not reclaimable as stale from here on.
        impl = open_validated(where, Role::reader, nullptr, at_once, h);
    } catch (const Error& e) {
        switch (e.code()) {
            case ErrorCode::not_found: return Removal::not_found;
            case ErrorCode::version_mismatch:
            case ErrorCode::abi_mismatch: return Removal::other_format;
            case ErrorCode::not_a_region:
            case ErrorCode::byte_order_mismatch:
            case ErrorCode::truncated:
            case ErrorCode::corrupt_header:
            case ErrorCode::init_timeout: return Removal::not_a_region;
            default: throw;
        }
    }
    // Holding the writer role, no writer can take the region over before the name is gone.
    if (!take_role_lock(impl->locks, platform::writer_lock_byte, where)) {
        return Removal::writer_alive;
    }
    return remove_if_ours(where, impl->id) ? Removal::removed : Removal::not_found;
}

// A moved-from region (impl_ null) answers with neutral values; so does one inherited through
// fork() wherever the answer would come from the (now inaccessible) mapping.
namespace {
const std::string no_name;
const Geometry no_geometry;
}  // namespace

const std::string& Region::name() const noexcept { return impl_ ? impl_->where.name : no_name; }
Backing Region::backing() const noexcept { return impl_ ? impl_->where.backing : Backing::memory; }
Role Region::role() const noexcept { return impl_ ? impl_->role : Role::reader; }
const Geometry& Region::geometry() const noexcept { return impl_ ? impl_->geometry : no_geometry; }
CreatorInfo Region::creator() const noexcept { return impl_ ? impl_->creator : CreatorInfo{}; }

std::byte* detail::RegionAccess::base(const Region& region) noexcept {
    return static_cast<std::byte*>(region.impl_->mapping.get_address());
}

std::byte* detail::RegionAccess::data(const Region& region) noexcept {
    return base(region) + region.impl_->geometry.data_offset;
}

detail::RegionHeader& detail::RegionAccess::header(const Region& region) noexcept {
    return *reinterpret_cast<detail::RegionHeader*>(base(region));
}

detail::ReaderBoard& detail::RegionAccess::board(const Region& region) noexcept {
    return *region.impl_->board;
}

detail::ReaderCursor* detail::RegionAccess::reader_cursor(const Region& region,
                                                          std::uint32_t reader) noexcept {
    const auto& impl = *region.impl_;
    if (reader >= max_readers || impl.geometry.board_size < board_bytes_with_cursors) return nullptr;
    // Through this handle's board (a reader's writable second mapping, or the main mapping).
    std::byte* board = impl.board != nullptr ? reinterpret_cast<std::byte*>(impl.board)
                                             : base(region) + impl.geometry.board_offset;
    return reinterpret_cast<ReaderCursor*>(board + reader_cursors_offset) + reader;
}

bool detail::RegionAccess::created(const Region& region) noexcept {
    return region.impl_->created;
}

std::uint32_t detail::RegionAccess::reader_slot(const Region& region) noexcept {
    return region.impl_->reader_slot;
}

bool detail::RegionAccess::try_hold(const Region& region, std::uint32_t slot) noexcept {
    // A lock of our own open never conflicts with itself: taking (and then releasing) a slot we
    // hold would drop our own role. Never reap our own slot.
    const auto& impl = *region.impl_;
    if ((impl.role == Role::writer && slot == static_cast<std::uint32_t>(LockSlot::writer)) ||
        (impl.role == Role::consumer && slot == static_cast<std::uint32_t>(LockSlot::consumer)) ||
        (impl.reader_slot < max_readers && slot == reader_lock_slot(impl.reader_slot))) {
        return false;
    }
    return region.impl_->locks.try_lock_exclusive(slot);
}

void detail::RegionAccess::release_hold(const Region& region, std::uint32_t slot) noexcept {
    region.impl_->locks.unlock(slot);
}

Region detail::RegionAccess::open_inspector(const Location& where, const RegionOptions& options) {
    detail::HeaderSnapshot snapshot{};
    auto impl = open_validated(where, Role::reader, nullptr, options, snapshot);
    // Read-only, like the rest of an inspector's mapping: board() is for reading here.
    auto* base = static_cast<std::byte*>(impl->mapping.get_address());
    impl->board = reinterpret_cast<detail::ReaderBoard*>(base + impl->geometry.board_offset);
    return Region(std::move(impl));
}

std::vector<std::uint32_t> detail::RegionAccess::live_reader_slots(const Region& region) {
    std::vector<std::uint32_t> slots;
    if (!region.impl_ || region.forked()) return slots;
    const auto& impl = *region.impl_;
    if (impl.reader_slot < max_readers) slots.push_back(impl.reader_slot);  // our own
    impl.locks.list_held_elsewhere(reader_lock_slot(0), max_readers, slots);
    std::sort(slots.begin(), slots.end());
    return slots;
}

std::string Region::schema() const {
    if (!impl_ || forked()) return {};
    const auto& g = impl_->geometry;
    return std::string(
        reinterpret_cast<const char*>(detail::RegionAccess::base(*this) + g.schema_offset),
        g.schema_length);
}

std::vector<std::uint8_t> Region::binary_schema() const {
    if (!impl_ || forked()) return {};
    const auto& g = impl_->geometry;
    const auto* first =
        reinterpret_cast<const std::uint8_t*>(detail::RegionAccess::base(*this) + g.binary_schema_offset);
    return {first, first + g.binary_schema_length};
}

WriterInfo Region::writer_info() const noexcept {
    if (!impl_ || forked()) return {};
    return detail::read_writer(detail::RegionAccess::header(*this));
}

bool Region::writer_alive() const noexcept {
    if (!impl_ || forked()) return false;
    // The writer's own lock never conflicts with itself, so ask only from other opens.
    if (impl_->role == Role::writer) return true;
    return impl_->locks.held_elsewhere(platform::writer_lock_byte);
}

bool Region::consumer_alive() const noexcept {
    if (!impl_ || forked()) return false;
    if (impl_->role == Role::consumer) return true;
    return impl_->locks.held_elsewhere(platform::consumer_lock_byte);
}

std::uint32_t Region::readers() const noexcept {
    if (!impl_ || forked()) return 0;
    const std::uint32_t mine = impl_->reader_slot < detail::max_readers ? 1 : 0;
    return mine + impl_->locks.count_held_elsewhere(detail::reader_lock_slot(0),
                                                    detail::max_readers);
}

RegionHealth Region::health() const noexcept {
    if (!impl_ || forked()) return RegionHealth::ok;  // cannot tell from here
    switch (impl_->at_name()) {
        case NameLookup::Result::absent: return RegionHealth::unlinked;
        case NameLookup::Result::other: return RegionHealth::replaced;
        case NameLookup::Result::same:
        case NameLookup::Result::unknown: break;  // cannot tell: say ok
    }
    return RegionHealth::ok;
}

RegionState Region::state() const noexcept {
    if (!impl_ || forked()) return RegionState::closed;
    // Acquire pairs with the writer's release in mark_closed: a reader that sees `closed`
    // sees every record published before it.
    return static_cast<RegionState>(
        detail::RegionAccess::header(*this).state.load(std::memory_order_acquire));
}

bool Region::forked() const noexcept {
    if (!impl_) return false;
    return detail::fork_generation() != impl_->fork_generation;
}

void Region::mark_closed() noexcept {
    if (!impl_ || impl_->role != Role::writer || forked()) return;
    detail::RegionAccess::header(*this).state.store(
        static_cast<std::uint32_t>(RegionState::closed), std::memory_order_release);
    // Only if the name still leads to this very region: never someone else's.
    if (impl_->remove_on_close) remove_if_ours(impl_->where, impl_->id);
}

}  // namespace shmrec
