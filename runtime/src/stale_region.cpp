// The stale-region probe, on top of the platform layer (no system call here).
#include "stale_region.hpp"

#include <cstddef>
#include <cstdint>

#include "platform/lock_slots.hpp"
#include "platform/system_error.hpp"
#include "shmrec/detail/region_header.hpp"

namespace shmrec::detail {

namespace {

bool being_created(platform::Handle h, std::chrono::milliseconds init_timeout) {
    std::uint32_t state = 0;
    if (platform::read_at(h, offsetof(RegionHeader, state), &state, sizeof state) &&
        state != static_cast<std::uint32_t>(RegionState::initialising)) {
        return false;
    }
    // Still `initialising` (or too short to say): a creator that died, or one that is between
    // its exclusive create and taking its locks. Only age tells them apart.
    const auto age = platform::age(h);
    return !age || *age < init_timeout;
}

}  // namespace

StaleCheck remove_if_stale(const Location& where, std::chrono::milliseconds init_timeout,
                           HeldRegion& held) {
    int err = 0;
    platform::OwnedHandle h = platform::open_existing(where, true, err);
    if (!h) return platform::is_not_found(err) ? StaleCheck::absent : StaleCheck::not_stale;
    const auto id = platform::identity(h.get());
    // Never remove what is not ours: another user's file, not a regular file, or one anybody
    // could have planted (writable by others: a squatter's, never a region we made).
    if (!id || platform::untrusted_reason(h.get())) return StaleCheck::not_stale;
    // Exclusive attached lock: nobody is attached. Held until `held` is dropped, so an opener
    // that comes now waits for us and then finds the new region.
    platform::LockSlots locks(h.get(), where);
    if (!locks.try_lock_exclusive(platform::attached_lock_byte)) return StaleCheck::not_stale;
    if (being_created(h.get(), init_timeout)) return StaleCheck::not_stale;
    switch (platform::compare_with_name(where, *id)) {
        case platform::NameLookup::Result::same: break;
        case platform::NameLookup::Result::absent: return StaleCheck::absent;
        default: return StaleCheck::not_stale;
    }
    if (!platform::remove_name(where)) return StaleCheck::not_stale;
    held.object = std::move(h);
    held.locks = std::move(locks);
    return StaleCheck::removed;
}

}  // namespace shmrec::detail
