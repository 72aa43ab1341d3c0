// Windows memory objects (platform/memory_object.hpp): named file-mapping objects backed by
// the paging file (CreateFileMappingW with INVALID_HANDLE_VALUE, OpenFileMappingW), and the
// named file-mapping object over a region file (CreateFileMappingW with shmrec's own
// CreateFileW handle).
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

// SECTION_BASIC_INFORMATION (ntddk.h; not in MinGW's user-mode headers).
struct SectionBasicInformation {
    void* base_address;
    ULONG allocation_attributes;
    LARGE_INTEGER maximum_size;
};
constexpr ULONG sec_file = 0x800000;  // SEC_FILE: the section is a view of a file

// The attributes and size of a file-mapping object (NtQuerySection, which has no Win32
// counterpart); false when it cannot be asked.
bool query_section(HANDLE h, SectionBasicInformation& out) noexcept {
    using Query = LONG(NTAPI*)(HANDLE, int, void*, ULONG, ULONG*);
    static const auto query = [] {
        const HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
        return ntdll == nullptr ? nullptr
                                : reinterpret_cast<Query>(reinterpret_cast<void*>(
                                      ::GetProcAddress(ntdll, "NtQuerySection")));
    }();
    ULONG got = 0;
    return query != nullptr && query(h, 0 /* SectionBasicInformation */, &out, sizeof out, &got) >= 0;
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

// Open the session's mapping object of this file, or make it. An existing object is used only
// if it is what a participant would have made: owned by this user (another user may create
// names in the session namespace first), a view of a file (SEC_FILE; not a paging-file
// mapping planted at the name) of exactly this file's size. Its name derives from the file's
// identity, so a same-sized view of another file could pass only if the file system reused
// an identity while the old object lived (FAT; FileIdInfo makes that moot on NTFS and ReFS).
FileMapping map_file_object(Handle file, const Location& where,
                            std::optional<unsigned> permissions) {
    const std::wstring name = windows::file_mapping_name(file, where);
    bool made = false;
    HANDLE h = ::OpenFileMappingW(participant_access, FALSE, name.c_str());
    if (h == nullptr) {
        const DWORD err = ::GetLastError();
        if (!is_not_found(static_cast<int>(err))) {
            throw_failure(where, "OpenFileMapping (the file's mapping object)", err);
        }
        // An opener that is first in its session does not know the creator's permissions:
        // owner-only then (other users cannot take part in a region yet: docs/windows.md).
        auto security = windows::SecurityAttributes::for_region(permissions.value_or(0600u));
        if (security.get() == nullptr) {
            throw_system_error(ErrorCode::system_error, where,
                               "building the security descriptor of its mapping object",
                               static_cast<int>(::GetLastError()));
        }
        // Size 0: the file's size now. Every caller has sized the file first (preallocate;
        // an opener waits for a non-empty file), and a region's size never changes.
        h = ::CreateFileMappingW(file, security.get(), PAGE_READWRITE, 0, 0, name.c_str());
        const DWORD created_err = ::GetLastError();
        if (h == nullptr) throw_failure(where, "CreateFileMapping (over the file)", created_err);
        made = created_err != ERROR_ALREADY_EXISTS;  // else another participant's, just made
    }
    MemoryObject object(h);
    if (made) return FileMapping(std::move(object));
    if (const auto why = windows::foreign_owner(h, windows::ObjectKind::kernel_object)) {
        throw Error(ErrorCode::untrusted_region, where.name,
                    fmt::format("{}: the file-mapping object named after the file {}",
                                display_name(where), *why));
    }
    SectionBasicInformation section{};
    LARGE_INTEGER file_size{};
    if (!query_section(h, section) || !::GetFileSizeEx(file, &file_size)) {
        throw_system_error(ErrorCode::system_error, where,
                           "NtQuerySection / GetFileSizeEx (checking the file's mapping object)",
                           last_error());
    }
    if ((section.allocation_attributes & sec_file) == 0 ||
        section.maximum_size.QuadPart != file_size.QuadPart) {
        throw Error(ErrorCode::untrusted_region, where.name,
                    fmt::format("{}: the file-mapping object named after the file is not a view "
                                "of it ({}, {} bytes; the file has {})",
                                display_name(where),
                                (section.allocation_attributes & sec_file) != 0
                                    ? "a view of a file"
                                    : "backed by the paging file",
                                section.maximum_size.QuadPart, file_size.QuadPart));
    }
    return FileMapping(std::move(object));
}

}  // namespace shmrec::platform
