// Internal (platform layer): numbered lock slots on a region object, carrying roles and
// liveness.
//
// What every implementation guarantees: a slot held by a process is released when that process
// dies in any way (kill -9, TerminateProcess included); slots belong to one LockSlots (one open
// of the region), not to a process, so a second open in the same process conflicts like any
// other; and no pid is involved, so pid reuse cannot fool them. A stopped holder keeps its
// slots.
//
// POSIX: open-file-description locks (F_OFD_SETLK) on one byte per slot of the region's file
// descriptor; the kernel drops them when the description closes.
// Windows: a named kernel object per held slot (a "token", an unsignalled event), which exists
// exactly as long as some process holds a handle to it; taking a slot is creating its token
// exclusively, and a dead holder's handles are closed by the kernel, so its tokens vanish
// (docs/windows.md).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "platform/handle.hpp"
#include "shmrec/detail/region_access.hpp"
#include "shmrec/region.hpp"

namespace shmrec::platform {

// A slot number (the byte offset of the lock on POSIX). The numbering is detail::LockSlot's.
using LockSlot = std::int64_t;

inline constexpr LockSlot writer_lock_byte =  // exclusive: the one writer
    static_cast<LockSlot>(detail::LockSlot::writer);
inline constexpr LockSlot consumer_lock_byte =  // exclusive: a ring's one consumer
    static_cast<LockSlot>(detail::LockSlot::consumer);
inline constexpr LockSlot attached_lock_byte =  // shared by every participant
    static_cast<LockSlot>(detail::LockSlot::attached);

// The lock slots of one open region object. Releases every slot it holds when destroyed.
class LockSlots {
public:
    LockSlots() noexcept;
    // `object` is the region's handle, open at `where`; it must outlive this. Throws Error when
    // the OS cannot name the slots of this object.
    LockSlots(Handle object, const Location& where);
    LockSlots(LockSlots&&) noexcept;
    LockSlots& operator=(LockSlots&&) noexcept;
    LockSlots(const LockSlots&) = delete;
    LockSlots& operator=(const LockSlots&) = delete;
    ~LockSlots();

    // Non-blocking: false when another open holds a conflicting lock on the slot (or on error).
    bool try_lock_exclusive(LockSlot slot) noexcept;
    bool try_lock_shared(LockSlot slot) noexcept;
    void unlock(LockSlot slot) noexcept;
    // True when another open holds the slot (a shared hold counts): the probe. Asked only about
    // slots this open does not hold itself.
    bool held_elsewhere(LockSlot slot) const noexcept;
    // How many of the `count` slots from `first` other opens hold (reader slots:
    // Region::readers()).
    std::uint32_t count_held_elsewhere(LockSlot first, std::uint32_t count) const noexcept;
    // The same, listing them: appends the index (from `first`) of every slot held by another
    // open to `out`, in no particular order.
    void list_held_elsewhere(LockSlot first, std::uint32_t count,
                             std::vector<std::uint32_t>& out) const;
    // Why the holder of a slot this open was refused is not a participant: Windows, a token at
    // the slot's name that this user does not own, cannot open, or that is another kind of
    // object (a squatter in the namespace); empty when the holder looks like ours, when nobody
    // holds it any more, and always on POSIX (a lock on our own descriptor has no owner).
    std::optional<std::string> foreign_holder(LockSlot slot) const;

private:
    struct Tokens;  // Windows: the names and the handles of the held slots; unused on POSIX
    Handle object_ = no_handle;
    std::unique_ptr<Tokens> tokens_;
};

}  // namespace shmrec::platform
