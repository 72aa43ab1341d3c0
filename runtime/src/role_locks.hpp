// Internal: the role locks of a region, under the names the region code has always used. The
// implementation is the platform layer's numbered lock slots (platform/lock_slots.hpp).
#pragma once

#include "platform/lock_slots.hpp"

namespace shmrec::detail {

using platform::attached_lock_byte;
using platform::consumer_lock_byte;
using platform::lock_held_elsewhere;
using platform::try_lock_exclusive;
using platform::try_lock_shared;
using platform::unlock;
using platform::writer_lock_byte;

}  // namespace shmrec::detail
