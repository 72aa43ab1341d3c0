// Internal: recognising and removing a region every participant of which has died.
#pragma once

#include <chrono>

#include "platform/lock_slots.hpp"
#include "platform/shared_object.hpp"
#include "shmrec/region.hpp"

namespace shmrec::detail {

// A region object held open with its attached slot taken exclusively.
struct HeldRegion {
    platform::OwnedHandle object;
    platform::LockSlots locks;  // on `object`; destroyed first
};

enum class StaleCheck {
    removed,    // it was stale and its name is gone; `held` keeps it locked exclusively
    not_stale,  // in use, being created, not ours, or being removed by someone else
    absent,     // nothing at the name any more
};

// Removes the region at `where` when nobody is attached to it (its shared "attached" lock can
// be taken exclusively) and it is not a region still being created (its state is not
// `initialising`, or it is older than `init_timeout`). Touches nothing of a region in use,
// one another user owns, or one that is not a regular file. On `removed`, `held` is the
// removed object with the attached lock still held exclusively: an opener that opened it just
// before keeps failing to attach (and so keeps retrying) until the caller has created the new
// region and drops `held`.
StaleCheck remove_if_stale(const Location& where, std::chrono::milliseconds init_timeout,
                           HeldRegion& held);

}  // namespace shmrec::detail
