// Internal (platform layer): where the doorbells of a mapping live, for the OSes that cannot
// sleep on a word across processes. Windows names one event per (doorbell, sleeper) after the
// region object and the doorbell's offset in it (runtime/src/windows/event_word.cpp), and
// finds them from a doorbell's address through this registry. Linux needs nothing: a shared
// futex is keyed by the page itself (its implementation does nothing).
#pragma once

#include <cstddef>
#include <cstdint>

#include "platform/handle.hpp"
#include "shmrec/region.hpp"

namespace shmrec::platform {

// `address` maps `size` bytes of the region object `object` (open at `where`) from byte
// `object_offset` on.
void register_wake_scope(const void* address, std::size_t size, std::uint64_t object_offset,
                         Handle object, const Location& where);
void unregister_wake_scope(const void* address) noexcept;

}  // namespace shmrec::platform
