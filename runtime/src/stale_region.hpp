// Internal: recognising and removing a region every participant of which has died.
#pragma once

#include <chrono>

#include "shmrec/region.hpp"

namespace shmrec::detail {

// Removes the region at `where` and returns true when nobody is attached to it (its shared
// "attached" lock can be taken exclusively) and it is not a region still being created (its
// state is not `initialising`, or it is older than `init_timeout`). Returns false, touching
// nothing, for a region in use, one another user owns, or one that is not a regular file.
bool remove_if_stale(const Location& where, std::chrono::milliseconds init_timeout);

}  // namespace shmrec::detail
