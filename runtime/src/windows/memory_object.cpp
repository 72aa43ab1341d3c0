// Windows memory objects (platform/memory_object.hpp): named file-mapping objects backed by
// the paging file (CreateFileMappingW with INVALID_HANDLE_VALUE, OpenFileMappingW).
#include "platform/memory_object.hpp"

#include <windows.h>

#include <fmt/format.h>

#include "platform/system_error.hpp"
#include "region_names.hpp"
#include "windows/object_names.hpp"
#include "windows/security.hpp"

namespace shmrec::platform {

using detail::display_name;

namespace {

// What every participant asks of the object: a reader maps the records read-only and its
// board page read-write; READ_CONTROL for the owner check.
constexpr DWORD participant_access =
    FILE_MAP_READ | FILE_MAP_WRITE | SECTION_QUERY | READ_CONTROL;

[[noreturn]] void throw_failure(const Location& where, std::string_view doing, DWORD err) {
    switch (err) {
        case ERROR_INVALID_HANDLE:
            // Mappings, events, mutexes, semaphores and jobs share one namespace.
            throw Error(ErrorCode::not_a_region, where.name,
                        fmt::format("{}: the name is taken by another kind of object (an event, "
                                    "mutex, semaphore or job: Windows gives them one namespace "
                                    "with file mappings)",
                                    display_name(where)));
        case ERROR_ACCESS_DENIED:
            if (windows::name_space(where.name) == "Global\\") {
                throw Error(ErrorCode::permission_denied, where.name,
                            fmt::format("{}: {} failed: access denied (creating a Global\\ object "
                                        "needs the SeCreateGlobalPrivilege privilege, and an "
                                        "existing one must grant this user access)",
                                        display_name(where), doing));
            }
            throw Error(ErrorCode::permission_denied, where.name,
                        fmt::format("{}: {} failed: access denied (the object's security does "
                                    "not grant this user read and write access)",
                                    display_name(where), doing));
        default: throw_system_error(where, doing, static_cast<int>(err));
    }
}

}  // namespace

MemoryObject& MemoryObject::operator=(MemoryObject&& o) noexcept {
    if (this != &o) {
        if (handle_ != nullptr) ::CloseHandle(handle_);
        handle_ = o.handle_;
        o.handle_ = nullptr;
    }
    return *this;
}

MemoryObject::~MemoryObject() {
    if (handle_ != nullptr) ::CloseHandle(handle_);
}

std::optional<MemoryObject> create_memory_object(const Location& where, std::uint64_t size,
                                                 unsigned permissions) {
    auto security = windows::SecurityAttributes::for_region(permissions);
    if (security.get() == nullptr) {
        throw_system_error(ErrorCode::system_error, where, "building its security descriptor",
                           static_cast<int>(::GetLastError()));
    }
    // SEC_COMMIT (the default): every page is charged to the commit limit now, so a system
    // out of memory refuses here (no_space), never at first touch.
    const HANDLE h = ::CreateFileMappingW(INVALID_HANDLE_VALUE, security.get(), PAGE_READWRITE,
                                          static_cast<DWORD>(size >> 32), static_cast<DWORD>(size),
                                          windows::widen(where.name).c_str());
    const DWORD err = ::GetLastError();
    if (h == nullptr) throw_failure(where, "CreateFileMapping", err);
    MemoryObject object(h);
    if (err == ERROR_ALREADY_EXISTS) return std::nullopt;  // someone else's: `object` closes it
    return object;
}

std::optional<MemoryObject> open_memory_object(const Location& where) {
    const HANDLE h =
        ::OpenFileMappingW(participant_access, FALSE, windows::widen(where.name).c_str());
    if (h == nullptr) {
        const DWORD err = ::GetLastError();
        if (is_not_found(static_cast<int>(err))) return std::nullopt;
        throw_failure(where, "OpenFileMapping", err);
    }
    MemoryObject object(h);
    if (const auto why = windows::foreign_owner(h, windows::ObjectKind::kernel_object)) {
        throw Error(ErrorCode::untrusted_region, where.name,
                    fmt::format("{} {}", display_name(where), *why));
    }
    return object;
}

Handle handle_of(const MemoryObject& object) noexcept {
    return object.get_mapping_handle().handle;
}

}  // namespace shmrec::platform
