// What the channel templates (and tests) need of a Region beyond its public surface: the
// mapped bytes, and the numbered lock slots that carry roles and liveness. Not for users.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "shmrec/detail/region_header.hpp"
#include "shmrec/region.hpp"

namespace shmrec::detail {

// Lock slots of a region (platform layer: runtime/src/posix/lock_slots.hpp). Each is held by
// at most one process at a time (attached: by every participant, shared) and released by the
// kernel when its holder dies, however it dies.
enum class LockSlot : std::uint32_t {
    writer = 0,
    consumer = 1,
    attached = 2,
    first_reader = 64,  // reader i holds first_reader + i
};

constexpr std::uint32_t reader_lock_slot(std::uint32_t reader) noexcept {
    return static_cast<std::uint32_t>(LockSlot::first_reader) + reader;
}

struct RegionAccess {
    // The mapping: everything read-only for a reader, except the board.
    static std::byte* base(const Region& region) noexcept;
    static std::byte* data(const Region& region) noexcept;
    static RegionHeader& header(const Region& region) noexcept;
    // The reader board, writable for every role.
    static ReaderBoard& board(const Region& region) noexcept;
    // Reader i's cursor on the board (format 2.1): writable through a reader's or writer's board,
    // read-only through an inspector's mapping. Null when the board has no cursors (2.0).
    static ReaderCursor* reader_cursor(const Region& region, std::uint32_t reader) noexcept;
    // True when this handle's Region::create made the region (false: opened an existing one).
    static bool created(const Region& region) noexcept;
    // The reader slot this region's reader holds (Role::reader only; others get max_readers).
    static std::uint32_t reader_slot(const Region& region) noexcept;
    // Takes lock slot `slot` exclusively if nobody holds it (its owner is dead or never was),
    // for a moment: the waiter registry's reaper. release_hold() gives it back.
    static bool try_hold(const Region& region, std::uint32_t slot) noexcept;
    static void release_hold(const Region& region, std::uint32_t slot) noexcept;

    // Opens a region with no role, for inspection (ChannelMonitor, untyped::RingObserver):
    // format and geometry validated as inspect_region() does, everything mapped read-only
    // (board() and reader_cursor() included: reading only), no reader slot, no lock but the
    // shared "attached" one every participant holds. role() says reader.
    static Region open_inspector(const Location& where, const RegionOptions& options);
    // The reader slots (0..max_readers-1) some live process holds now, ascending: a system
    // call per slot in use, plus one (as Region::readers()).
    static std::vector<std::uint32_t> live_reader_slots(const Region& region);
};

}  // namespace shmrec::detail
