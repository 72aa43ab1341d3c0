// POSIX lock slots: open-file-description locks on one byte per slot (platform/lock_slots.hpp).
#include "platform/lock_slots.hpp"

#include <fcntl.h>

#include <algorithm>

namespace shmrec::platform {

namespace {

bool set_lock(Handle fd, LockSlot slot, short type) noexcept {
    struct flock lock {};
    lock.l_type = type;
    lock.l_whence = SEEK_SET;
    lock.l_start = static_cast<off_t>(slot);
    lock.l_len = 1;
    return ::fcntl(fd, F_OFD_SETLK, &lock) == 0;
}

// The lock another open description holds somewhere in [begin, begin + count), clipped to the
// range: GETLK reports one conflicting lock, not necessarily the lowest. Empty range if none.
std::pair<off_t, off_t> held_range(Handle fd, off_t begin, std::uint32_t count) noexcept {
    const off_t end = begin + static_cast<off_t>(count);
    struct flock lock {};
    lock.l_type = F_WRLCK;  // conflicts with any lock another description holds
    lock.l_whence = SEEK_SET;
    lock.l_start = begin;
    lock.l_len = static_cast<off_t>(count);
    if (count == 0 || ::fcntl(fd, F_OFD_GETLK, &lock) != 0 || lock.l_type == F_UNLCK) {
        return {begin, begin};
    }
    const off_t from = std::max(begin, lock.l_start);
    const off_t to = lock.l_len == 0 ? end : std::min(end, lock.l_start + lock.l_len);
    return {from, std::max(from, to)};  // to <= from cannot happen; never loop on it
}

// Visits every held slot of [begin, begin + count): the lock GETLK reports, then both sides.
template <class Visit>
void visit_held(Handle fd, off_t begin, std::uint32_t count, Visit& visit) {
    const auto [from, to] = held_range(fd, begin, count);
    if (to == from) return;
    visit(from, to);
    visit_held(fd, begin, static_cast<std::uint32_t>(from - begin), visit);
    visit_held(fd, to, static_cast<std::uint32_t>(begin + static_cast<off_t>(count) - to), visit);
}

}  // namespace

// Nothing to keep: the locks live on the open file description behind `object`.
struct LockSlots::Tokens {};

LockSlots::LockSlots() noexcept = default;
LockSlots::LockSlots(Handle object, const Location&) : object_(object) {}
LockSlots::LockSlots(LockSlots&&) noexcept = default;
LockSlots& LockSlots::operator=(LockSlots&&) noexcept = default;
LockSlots::~LockSlots() = default;  // closing the descriptor releases them

bool LockSlots::try_lock_exclusive(LockSlot slot) noexcept {
    return set_lock(object_, slot, F_WRLCK);
}
bool LockSlots::try_lock_shared(LockSlot slot) noexcept { return set_lock(object_, slot, F_RDLCK); }
void LockSlots::unlock(LockSlot slot) noexcept { set_lock(object_, slot, F_UNLCK); }

// Only processes that opened the region object (whose owner and mode were checked) can lock
// bytes of it: there is no name to squat.
std::optional<std::string> LockSlots::foreign_holder(LockSlot) const { return std::nullopt; }

bool LockSlots::held_elsewhere(LockSlot slot) const noexcept {
    const auto [from, to] = held_range(object_, static_cast<off_t>(slot), 1);
    return to != from;
}

std::uint32_t LockSlots::count_held_elsewhere(LockSlot first, std::uint32_t count) const noexcept {
    std::uint32_t held = 0;
    auto add = [&](off_t from, off_t to) { held += static_cast<std::uint32_t>(to - from); };
    visit_held(object_, static_cast<off_t>(first), count, add);
    return held;
}

void LockSlots::list_held_elsewhere(LockSlot first, std::uint32_t count,
                                    std::vector<std::uint32_t>& out) const {
    auto list = [&](off_t from, off_t to) {
        for (off_t i = from; i < to; ++i) out.push_back(static_cast<std::uint32_t>(i - first));
    };
    visit_held(object_, static_cast<off_t>(first), count, list);
}

}  // namespace shmrec::platform
