// Region: creating, opening, validating and mapping a named region, and its role locks.
#include "shmrec/region.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/interprocess/exceptions.hpp>
#include <boost/interprocess/file_mapping.hpp>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "region_files.hpp"
#include "shmrec/detail/fork_guard.hpp"
#include "region_header_io.hpp"
#include "role_locks.hpp"
#include "shmrec/detail/fault.hpp"
#include "stale_region.hpp"
#include "shmrec/error.hpp"

namespace bip = boost::interprocess;

namespace shmrec {

namespace {

using detail::code_for_errno;
using detail::display_name;
using detail::os_page_size;
using detail::throw_errno;

[[noreturn]] void throw_boost(const bip::interprocess_exception& e, const Location& where,
                              std::string_view doing) {
    const int err = e.get_native_error();
    if (err != 0) throw_errno(code_for_errno(err), where, doing, err);
    throw Error(ErrorCode::system_error, where.name,
                fmt::format("{}: {} failed: {}", display_name(where), doing, e.what()));
}

}  // namespace

struct Region::Impl {
    Location where;
    Role role = Role::reader;
    std::variant<std::monostate, bip::shared_memory_object, bip::file_mapping> object;
    int file_fd = -1;  // file backing: our own O_NOFOLLOW descriptor (locks, fstat)
    bip::mapped_region mapping;        // the whole region (read-only for a reader)
    bip::mapped_region board_mapping;  // a reader's writable board page
    Geometry geometry;
    CreatorInfo creator;
    detail::ReaderBoard* board = nullptr;
    std::uint32_t reader_slot = detail::max_readers;  // Role::reader: the slot it holds
    std::vector<int> tracked;  // descriptors registered with the fork guard
    std::uint32_t fork_generation = detail::fork_generation();  // this process's, at open

    explicit Impl(Location w) : where(std::move(w)) {}
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    ~Impl() {
        for (const int fd : tracked) detail::untrack_descriptor(fd);
        if (mapping.get_address() != nullptr) detail::untrack_mapping(mapping.get_address());
        if (board_mapping.get_address() != nullptr) {
            detail::untrack_mapping(board_mapping.get_address());
        }
        if (file_fd >= 0) ::close(file_fd);
    }

    // Every descriptor of the region is blanked out in a forked child (fork_guard.hpp).
    void track(int fd) {
        detail::track_descriptor(fd);
        tracked.push_back(fd);
    }

    int fd() const {
        if (file_fd >= 0) return file_fd;
        return std::get<bip::shared_memory_object>(object).get_mapping_handle().handle;
    }

    void map(bip::mode_t mode) {
        try {
            if (auto* shm = std::get_if<bip::shared_memory_object>(&object)) {
                mapping = bip::mapped_region(*shm, mode);
            } else {
                mapping = bip::mapped_region(std::get<bip::file_mapping>(object), mode);
            }
        } catch (const bip::interprocess_exception& e) {
            throw_boost(e, where, "mmap");
        }
        detail::track_mapping(mapping.get_address(), mapping.get_size());
    }

    void map_board() {
        try {
            const auto offset = static_cast<bip::offset_t>(geometry.board_offset);
            const auto size = static_cast<std::size_t>(geometry.board_size);
            if (auto* shm = std::get_if<bip::shared_memory_object>(&object)) {
                board_mapping = bip::mapped_region(*shm, bip::read_write, offset, size);
            } else {
                board_mapping = bip::mapped_region(std::get<bip::file_mapping>(object),
                                                   bip::read_write, offset, size);
            }
        } catch (const bip::interprocess_exception& e) {
            throw_boost(e, where, "mmap of the reader board");
        }
        detail::track_mapping(board_mapping.get_address(), board_mapping.get_size());
        board = static_cast<detail::ReaderBoard*>(board_mapping.get_address());
    }

    // File backing maps through Boost's own descriptor, opened by path after ours: make sure
    // both name the same file (nobody swapped it in between).
    void open_file_mapping(bip::mode_t mode) {
        try {
            object.emplace<bip::file_mapping>(where.name.c_str(), mode);
        } catch (const bip::interprocess_exception& e) {
            throw_boost(e, where, "open");
        }
        track(std::get<bip::file_mapping>(object).get_mapping_handle().handle);
        struct stat ours {}, theirs {};
        const int boost_fd = std::get<bip::file_mapping>(object).get_mapping_handle().handle;
        if (::fstat(file_fd, &ours) != 0 || ::fstat(boost_fd, &theirs) != 0 ||
            ours.st_ino != theirs.st_ino || ours.st_dev != theirs.st_dev) {
            throw Error(ErrorCode::untrusted_region, where.name,
                        fmt::format("{} was replaced while it was being opened",
                                    display_name(where)));
        }
    }
};

Region::Region(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Region::Region(Region&&) noexcept = default;
Region& Region::operator=(Region&&) noexcept = default;
Region::~Region() = default;

Region Region::create(const Location& where, const RegionSpec& spec,
                      const RegionOptions& options) {
    validate_location(where);
    if (spec.record_name.empty() || spec.record_name.size() >= detail::max_record_name) {
        throw Error(ErrorCode::invalid_argument, where.name,
                    fmt::format("record type name '{}' must be 1 to {} characters",
                                spec.record_name, detail::max_record_name - 1));
    }
    if (spec.data_size == 0 || (options.permissions & ~0777u) != 0) {
        throw Error(ErrorCode::invalid_argument, where.name,
                    fmt::format("{}: impossible geometry or permissions {:o}",
                                display_name(where), options.permissions));
    }
    if (auto region = try_create(where, spec, options)) return std::move(*region);
    // The name is taken. A region nobody is attached to any more (every participant died) is
    // stale: remove it and create afresh, so a crash never needs a manual `rm /dev/shm/...`.
    if (detail::remove_if_stale(where, options.init_timeout)) {
        if (auto region = try_create(where, spec, options)) return std::move(*region);
    }
    detail::throw_existing(where);
}

std::optional<Region> Region::try_create(const Location& where, const RegionSpec& spec,
                                         const RegionOptions& options) {
    auto impl = std::make_unique<Impl>(where);
    impl->role = Role::writer;
    impl->geometry = detail::plan_geometry(spec, os_page_size());

    // Exclusive create: O_CREAT|O_EXCL, never following a symlink; mode fixed with fchmod
    // afterwards so the umask cannot change it.
    if (where.backing == Backing::memory) {
        try {
            bip::permissions perm;
            perm.set_permissions(static_cast<int>(options.permissions));
            impl->object.emplace<bip::shared_memory_object>(bip::create_only, where.name.c_str(),
                                                            bip::read_write, perm);
        } catch (const bip::interprocess_exception& e) {
            if (e.get_error_code() == bip::already_exists_error) return std::nullopt;
            throw_boost(e, where, "shm_open");
        }
        impl->track(impl->fd());
    } else {
        impl->file_fd = ::open(where.name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                               static_cast<mode_t>(options.permissions));
        if (impl->file_fd < 0) {
            const int err = errno;
            if (err == EEXIST) return std::nullopt;
            throw_errno(code_for_errno(err), where, "open", err);
        }
        impl->track(impl->file_fd);
        if (::fchmod(impl->file_fd, static_cast<mode_t>(options.permissions)) != 0) {
            const int err = errno;
            remove_region(where);
            throw_errno(code_for_errno(err), where, "fchmod", err);
        }
    }

    // From here on a failure removes the half-made region again.
    try {
        // Attached and writer locks first, before the region is even sized: a process that
        // finds the name now sees a live participant and waits for `ready` instead of taking
        // the half-made region for a stale one. A stale-region probe may hold the attached
        // lock for a moment (it then finds us `initialising` and young, and lets go).
        const auto lock_deadline = std::chrono::steady_clock::now() + options.init_timeout;
        while (!detail::try_lock_shared(impl->fd(), detail::attached_lock_byte)) {
            if (std::chrono::steady_clock::now() >= lock_deadline) {
                throw_errno(ErrorCode::system_error, where, "fcntl(F_OFD_SETLK)", errno);
            }
            std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
        if (!detail::try_lock_exclusive(impl->fd(), detail::writer_lock_byte)) {
            throw_errno(ErrorCode::system_error, where, "fcntl(F_OFD_SETLK)", errno);
        }
        SHMREC_FAULT_POINT("create.after_open");
        detail::preallocate(impl->fd(), impl->geometry.mapped_size, where);
        SHMREC_FAULT_POINT("create.after_fallocate");
        if (where.backing == Backing::file) impl->open_file_mapping(bip::read_write);
        impl->map(bip::read_write);
    } catch (...) {
        remove_region(where);
        throw;
    }

    auto* base = static_cast<std::byte*>(impl->mapping.get_address());
    const auto me = detail::current_process();
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

// Opens the region's file or shared-memory object by name. Readers open read-write too, for
// the reader board and the lock queries; their view of the records is mapped read-only.
static std::unique_ptr<Region::Impl> open_object(const Location& where, Role role) {
    auto impl = std::make_unique<Region::Impl>(where);
    impl->role = role;
    const std::string shown = display_name(where);
    if (where.backing == Backing::memory) {
        try {
            impl->object.emplace<bip::shared_memory_object>(bip::open_only, where.name.c_str(),
                                                            bip::read_write);
        } catch (const bip::interprocess_exception& e) {
            if (e.get_native_error() == ENOENT || e.get_error_code() == bip::not_found_error) {
                throw Error(ErrorCode::not_found, where.name,
                            fmt::format("{} does not exist (is the writer running?)", shown));
            }
            throw_boost(e, where, "shm_open");
        }
        impl->track(impl->fd());
        return impl;
    }
    impl->file_fd = ::open(where.name.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (impl->file_fd < 0) {
        const int err = errno;
        if (err == ENOENT) {
            throw Error(ErrorCode::not_found, where.name,
                        fmt::format("{} does not exist (is the writer running?)", shown));
        }
        if (err == ELOOP) {
            throw Error(ErrorCode::untrusted_region, where.name,
                        fmt::format("{} is a symbolic link; refusing to follow it", shown));
        }
        throw_errno(code_for_errno(err), where, "open", err);
    }
    impl->track(impl->file_fd);
    return impl;
}

// Opens, maps and validates an existing region; everything role-specific is left to the
// caller. A null `expected` checks format and geometry only (inspection).
static std::unique_ptr<Region::Impl> open_validated(const Location& where, Role role,
                                                   const RegionSpec* expected,
                                                   const RegionOptions& options,
                                                   detail::HeaderSnapshot& snapshot) {
    validate_location(where);
    const std::string shown = display_name(where);
    const auto deadline = std::chrono::steady_clock::now() + options.init_timeout;
    std::unique_ptr<Region::Impl> impl;
    for (;;) {
        impl = open_object(where, role);
        // Every participant holds the attached lock (shared). It fails only while another
        // process holds it exclusively, to remove a stale region: open the name again.
        if (detail::try_lock_shared(impl->fd(), detail::attached_lock_byte)) break;
        if (std::chrono::steady_clock::now() >= deadline) {
            throw Error(ErrorCode::init_timeout, where.name,
                        fmt::format("{} is being removed as stale by another process", shown));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const int fd = impl->fd();
    detail::check_trusted(fd, where);

    // A creator first makes an empty file, then sizes it, then writes the header: wait a
    // bounded time for it to get that far, then tell "never finished" from "corrupt".
    std::uint64_t size = detail::file_size(fd, where);
    while (size == 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        size = detail::file_size(fd, where);
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
        // Read-write for every role: a reader maps its board page writable from this handle
        // (its view of the records is still mapped read-only below).
        impl->open_file_mapping(bip::read_write);
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
        const auto magic = __atomic_load_n(&header->magic, __ATOMIC_RELAXED);
        if (magic != 0 && magic != detail::region_magic) break;
        if (std::chrono::steady_clock::now() >= deadline) {
            throw Error(ErrorCode::init_timeout, where.name,
                        fmt::format("{}: its creator never finished initialising it (state still "
                                    "'initialising' after {} ms; creator pid {})",
                                    shown, options.init_timeout.count(),
                                    __atomic_load_n(&header->creator_pid, __ATOMIC_RELAXED)));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }

    snapshot = detail::take_snapshot(*header);
    impl->geometry = detail::validate_header(snapshot, size, expected, shown, os_page_size());
    impl->creator = {snapshot.creator_pid, snapshot.creator_start_time, snapshot.creation_time_ns};
    return impl;
}

Region Region::open(const Location& where, Role role, const RegionSpec& expected,
                    const RegionOptions& options) {
    detail::HeaderSnapshot snapshot{};
    auto impl = open_validated(where, role, &expected, options, snapshot);
    const int fd = impl->fd();
    const std::string shown = display_name(where);

    if (role == Role::writer) {
        if (!detail::try_lock_exclusive(fd, detail::writer_lock_byte)) {
            throw Error(ErrorCode::writer_active, where.name,
                        fmt::format("{} already has a live writer", shown));
        }
        auto* base = static_cast<std::byte*>(impl->mapping.get_address());
        impl->board = reinterpret_cast<detail::ReaderBoard*>(base + impl->geometry.board_offset);
        // A new writer re-opens a closed region for business.
        reinterpret_cast<detail::RegionHeader*>(base)->state.store(
            static_cast<std::uint32_t>(RegionState::ready), std::memory_order_release);
    } else if (role == Role::consumer) {
        if (!detail::try_lock_exclusive(fd, detail::consumer_lock_byte)) {
            throw Error(ErrorCode::reader_active, where.name,
                        fmt::format("{} already has a live reader (a ring has exactly one)", shown));
        }
        auto* base = static_cast<std::byte*>(impl->mapping.get_address());
        impl->board = reinterpret_cast<detail::ReaderBoard*>(base + impl->geometry.board_offset);
    } else {
        impl->map_board();
        // Every reader holds a slot of the board's table: its liveness and its waiter
        // registration (detail/waiter_registry.hpp).
        for (std::uint32_t i = 0; i < detail::max_readers; ++i) {
            if (detail::try_lock_exclusive(fd, detail::lock_byte(detail::reader_lock_slot(i)))) {
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
    info.writer_alive = region.writer_alive();
    info.consumer_alive = region.consumer_alive();
    info.readers = region.readers();
    info.schema = region.schema();
    return info;
}

bool remove_region(const Location& where) {
    validate_location(where);
    if (where.backing == Backing::memory) {
        return bip::shared_memory_object::remove(where.name.c_str());
    }
    return ::unlink(where.name.c_str()) == 0;
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

std::uint32_t detail::RegionAccess::reader_slot(const Region& region) noexcept {
    return region.impl_->reader_slot;
}

bool detail::RegionAccess::held_elsewhere(const Region& region, std::uint32_t slot) noexcept {
    return detail::lock_held_elsewhere(region.impl_->fd(), detail::lock_byte(slot));
}

bool detail::RegionAccess::try_hold(const Region& region, std::uint32_t slot) noexcept {
    // A lock of our own open file description never conflicts with itself: taking (and then
    // releasing) a slot we hold would drop our own role. Never reap our own slot.
    const auto& impl = *region.impl_;
    if ((impl.role == Role::writer && slot == static_cast<std::uint32_t>(detail::LockSlot::writer)) ||
        (impl.role == Role::consumer && slot == static_cast<std::uint32_t>(detail::LockSlot::consumer)) ||
        (impl.reader_slot < detail::max_readers && slot == detail::reader_lock_slot(impl.reader_slot))) {
        return false;
    }
    return detail::try_lock_exclusive(impl.fd(), detail::lock_byte(slot));
}

void detail::RegionAccess::release_hold(const Region& region, std::uint32_t slot) noexcept {
    detail::unlock(region.impl_->fd(), detail::lock_byte(slot));
}

std::string Region::schema() const {
    if (!impl_ || forked()) return {};
    const auto& g = impl_->geometry;
    return std::string(reinterpret_cast<const char*>(detail::RegionAccess::base(*this) +
                                                     g.schema_offset),
                       g.schema_length);
}

bool Region::writer_alive() const noexcept {
    if (!impl_ || forked()) return false;
    // The writer's own lock never conflicts with itself, so ask only from other opens.
    if (impl_->role == Role::writer) return true;
    return detail::lock_held_elsewhere(impl_->fd(), detail::writer_lock_byte);
}

bool Region::consumer_alive() const noexcept {
    if (!impl_ || forked()) return false;
    if (impl_->role == Role::consumer) return true;
    return detail::lock_held_elsewhere(impl_->fd(), detail::consumer_lock_byte);
}

std::uint32_t Region::readers() const noexcept {
    if (!impl_ || forked()) return 0;
    const std::uint32_t mine = impl_->reader_slot < detail::max_readers ? 1 : 0;
    return mine + detail::count_held_elsewhere(impl_->fd(),
                                               detail::lock_byte(detail::reader_lock_slot(0)),
                                               detail::max_readers);
}

RegionHealth Region::health() const noexcept {
    if (!impl_) return RegionHealth::ok;
    struct stat ours {}, named {};
    if (::fstat(impl_->fd(), &ours) != 0) return RegionHealth::ok;  // cannot tell
    int fd = -1;
    if (impl_->where.backing == Backing::memory) {
        fd = ::shm_open(("/" + impl_->where.name).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
    } else {
        fd = ::open(impl_->where.name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) return errno == ENOENT ? RegionHealth::unlinked : RegionHealth::ok;
    const bool same = ::fstat(fd, &named) == 0 && named.st_dev == ours.st_dev &&
                      named.st_ino == ours.st_ino;
    ::close(fd);
    return same ? RegionHealth::ok : RegionHealth::replaced;
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
    if (!impl_) return;
    if (impl_->role != Role::writer || forked()) return;
    detail::RegionAccess::header(*this).state.store(
        static_cast<std::uint32_t>(RegionState::closed), std::memory_order_release);
}

}  // namespace shmrec
