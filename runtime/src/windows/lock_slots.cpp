// Windows lock slots (platform/lock_slots.hpp): one named event per held slot, a "token".
//
// A named kernel object exists exactly as long as some process holds a handle to it, and the
// kernel closes every handle of a process that ends, however it ends (TerminateProcess
// included). So a slot is held while its token exists, by whoever created it:
//   exclusive: create "<prefix>lock.x<slot>"; it must not exist before (else it is held), and
//              no shared token "<prefix>lock.s<slot>" may exist after (else a shared holder).
//   shared:    create or open "<prefix>lock.s<slot>"; no exclusive token may exist after.
// Each side creates its own token before it looks for the other's, so of two racing takers at
// least one sees the other (both may back off; never both succeed). A token's handle is not
// inheritable, and a second open in the same process creates its own, so slots belong to one
// LockSlots as on POSIX. Probing is opening a token by name: one that exists but refuses
// us access (another user's) still exists. An object of another type at a token's name (a
// squatter) makes the slot look held: refused, never shared.
#include "platform/lock_slots.hpp"

#include <windows.h>

#include <map>
#include <string>

#include "shmrec/detail/fault.hpp"
#include "windows/object_names.hpp"
#include "windows/security.hpp"

namespace shmrec::platform {

struct LockSlots::Tokens {
    std::wstring prefix;  // "<companion prefix>lock."
    windows::SecurityAttributes security = windows::SecurityAttributes::owner_only_object();
    std::map<LockSlot, HANDLE> held;  // slot -> our token (exclusive or shared)

    std::wstring name(wchar_t kind, LockSlot slot) const {
        return prefix + kind + std::to_wstring(slot);
    }
    // Creates the token; null when it could not be created or (exclusive) already existed.
    HANDLE create(wchar_t kind, LockSlot slot, bool exclusive) {
        if (security.get() == nullptr) return nullptr;  // never a token with default security
        const HANDLE h = ::CreateEventW(security.get(), TRUE, FALSE, name(kind, slot).c_str());
        if (h != nullptr && exclusive && ::GetLastError() == ERROR_ALREADY_EXISTS) {
            ::CloseHandle(h);
            return nullptr;
        }
        return h;
    }
    bool exists(wchar_t kind, LockSlot slot) const {
        const HANDLE h = ::OpenEventW(SYNCHRONIZE, FALSE, name(kind, slot).c_str());
        if (h != nullptr) {
            ::CloseHandle(h);
            return true;
        }
        const DWORD err = ::GetLastError();
        return err != ERROR_FILE_NOT_FOUND && err != ERROR_PATH_NOT_FOUND;
    }
    // Only the attached slot is ever taken shared.
    bool held_by_anyone(LockSlot slot) const {
        return exists(L'x', slot) || (slot == attached_lock_byte && exists(L's', slot));
    }
    void release_all() noexcept {
        for (const auto& [slot, h] : held) ::CloseHandle(h);
        held.clear();
    }
};

LockSlots::LockSlots() noexcept = default;

LockSlots::LockSlots(Handle object, const Location& where)
    : object_(object), tokens_(std::make_unique<Tokens>()) {
    tokens_->prefix = windows::companion_prefix(object, where) + L"lock.";
}

LockSlots::LockSlots(LockSlots&&) noexcept = default;

LockSlots& LockSlots::operator=(LockSlots&& o) noexcept {
    if (this != &o) {
        if (tokens_) tokens_->release_all();
        object_ = o.object_;
        tokens_ = std::move(o.tokens_);
    }
    return *this;
}

LockSlots::~LockSlots() {
    if (tokens_) tokens_->release_all();
}

namespace {

// Owns a token handle until it is stored (a bad_alloc in between must not keep a slot held).
struct TokenGuard {
    HANDLE h;
    ~TokenGuard() {
        if (h != nullptr) ::CloseHandle(h);
    }
};

}  // namespace

// Exclusive: our 'x' token, then no 's' token. Shared: our 's' token, then no 'x' token.
bool LockSlots::try_lock_exclusive(LockSlot slot) noexcept {
    if (!tokens_ || tokens_->held.contains(slot)) return false;
    try {
        TokenGuard mine{tokens_->create(L'x', slot, true)};
        if (mine.h == nullptr) return false;
        // The window the protocol is about: our token exists, the other kind not yet probed
        // (tests/reliability/windows_protocol_test.cpp stops or kills a taker here).
        SHMREC_FAULT_POINT("slots.exclusive.after_token");
        if (tokens_->exists(L's', slot)) return false;
        tokens_->held.emplace(slot, mine.h);
        mine.h = nullptr;
        return true;
    } catch (...) {  // std::bad_alloc
        return false;
    }
}

bool LockSlots::try_lock_shared(LockSlot slot) noexcept {
    if (!tokens_ || tokens_->held.contains(slot)) return false;
    try {
        TokenGuard mine{tokens_->create(L's', slot, false)};
        if (mine.h == nullptr) return false;
        SHMREC_FAULT_POINT("slots.shared.after_token");
        if (tokens_->exists(L'x', slot)) return false;
        tokens_->held.emplace(slot, mine.h);
        mine.h = nullptr;
        return true;
    } catch (...) {
        return false;
    }
}

void LockSlots::unlock(LockSlot slot) noexcept {
    if (!tokens_) return;
    const auto it = tokens_->held.find(slot);
    if (it == tokens_->held.end()) return;
    ::CloseHandle(it->second);
    tokens_->held.erase(it);
}

bool LockSlots::held_elsewhere(LockSlot slot) const noexcept {
    if (!tokens_ || tokens_->held.contains(slot)) return false;
    try {
        return tokens_->held_by_anyone(slot);
    } catch (...) {
        return false;
    }
}

std::uint32_t LockSlots::count_held_elsewhere(LockSlot first, std::uint32_t count) const noexcept {
    std::uint32_t held = 0;
    for (std::uint32_t i = 0; i < count; ++i) held += held_elsewhere(first + i) ? 1 : 0;
    return held;
}

// A participant's token is an event this user owns (SecurityAttributes::owner_only_object sets
// the owner). Anything else at a token's name was put there by someone else first.
std::optional<std::string> LockSlots::foreign_holder(LockSlot slot) const {
    if (!tokens_) return std::nullopt;
    for (const wchar_t kind : {L'x', L's'}) {
        if (kind == L's' && slot != attached_lock_byte) break;  // only that one is shared
        const std::wstring name = tokens_->name(kind, slot);
        const std::string shown(name.begin(), name.end());  // companion names are ASCII
        const HANDLE h = ::OpenEventW(READ_CONTROL, FALSE, name.c_str());
        if (h == nullptr) {
            switch (::GetLastError()) {
                case ERROR_ACCESS_DENIED:
                    return "lock token " + shown +
                           " exists but this user may not open it (another user's object)";
                case ERROR_INVALID_HANDLE:
                    return "lock token name " + shown + " is taken by another kind of object";
                default: continue;  // gone meanwhile, or never there
            }
        }
        auto why = windows::foreign_owner(h, windows::ObjectKind::kernel_object);
        ::CloseHandle(h);
        if (why) return "lock token " + shown + " " + *why;
    }
    return std::nullopt;
}

void LockSlots::list_held_elsewhere(LockSlot first, std::uint32_t count,
                                    std::vector<std::uint32_t>& out) const {
    for (std::uint32_t i = 0; i < count; ++i) {
        if (held_elsewhere(first + i)) out.push_back(i);
    }
}

}  // namespace shmrec::platform
