// Internal (Windows platform layer): explicit security descriptors for the objects shmrec
// creates, and the owner check of the objects it opens.
//
// Nothing is created with the default DACL (which would let the creator's token defaults
// decide). A region object or file gets an explicit, protected DACL from
// RegionOptions::permissions: the owner always has full access; the group bits (070) grant
// the creator's primary group, the other bits (007) grant Everyone; a read bit grants
// GENERIC_READ, a write bit GENERIC_WRITE (readers need write access too, for their board
// page, as on POSIX). Lock-slot tokens are owner-only (others only ever need to learn that one
// exists, which needs no access). Wake events let Everyone signal them (EVENT_MODIFY_STATE):
// a participant of another user must wake the sleepers; a stray signal costs a re-check.
#pragma once

#include <windows.h>

#include <optional>
#include <string>

namespace shmrec::platform::windows {

class SecurityAttributes {
public:
    // For a region's object or file, from its POSIX-style permission bits.
    static SecurityAttributes for_region(unsigned permissions);
    static SecurityAttributes for_lock_token();
    static SecurityAttributes for_wake_event();

    SecurityAttributes(SecurityAttributes&&) noexcept;
    SecurityAttributes& operator=(SecurityAttributes&&) = delete;
    SecurityAttributes(const SecurityAttributes&) = delete;
    ~SecurityAttributes();

    // Null when the descriptor could not be built (then the caller must fail, not fall back
    // to the default DACL).
    SECURITY_ATTRIBUTES* get() noexcept { return descriptor_ ? &attributes_ : nullptr; }

private:
    explicit SecurityAttributes(const std::wstring& sddl);
    SECURITY_ATTRIBUTES attributes_{};
    PSECURITY_DESCRIPTOR descriptor_ = nullptr;
};

enum class ObjectKind { file, kernel_object };

// Why the object open as `object` is not one this user made (its owner is another
// principal), or empty when it is ours. The handle needs READ_CONTROL.
std::optional<std::string> foreign_owner(HANDLE object, ObjectKind kind);

}  // namespace shmrec::platform::windows
