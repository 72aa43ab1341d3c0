// Windows shared objects (platform/shared_object.hpp): region files through CreateFileW (never
// through a reparse point), and the queries on a region's handle, which is a file or a
// file-mapping object (a memory region). A file-mapping object lives exactly as long as some
// process holds a handle to it: its name cannot be removed, nor given to another object while
// we hold ours, and it can never be stale.
#include "platform/shared_object.hpp"

#include <windows.h>

#include <boost/interprocess/detail/win32_api.hpp>

#include <cstring>

#include <fmt/format.h>

#include "platform/system_error.hpp"
#include "region_names.hpp"
#include "windows/object_names.hpp"
#include "windows/security.hpp"

namespace shmrec::platform {

namespace {

using detail::display_name;

constexpr DWORD share_all = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;

// A region's handle is a file or a file-mapping object (GetFileType cannot tell them apart
// under Wine); NtQuerySection answers for a mapping object only.
bool is_mapping_object(Handle h) noexcept {
    __int64 size = 0;
    return boost::interprocess::winapi::get_file_mapping_size(h, size);
}
bool is_file(Handle h) noexcept { return !is_mapping_object(h); }

// Every file-mapping object has this identity: while we hold it, the name cannot lead to
// another one, so "the same object as at the name" is "something is at the name".
constexpr ObjectId mapping_object_id{~std::uint64_t{0}, ~std::uint64_t{0}};

HANDLE open_path(const Location& where, DWORD access) noexcept {
    try {
        return ::CreateFileW(windows::widen(where.name).c_str(), access, share_all, nullptr,
                             OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT,
                             nullptr);
    } catch (...) {  // std::bad_alloc from the name
        ::SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return INVALID_HANDLE_VALUE;
    }
}

HANDLE valid_or_null(HANDLE h) noexcept { return h == INVALID_HANDLE_VALUE ? nullptr : h; }

bool is_reparse_point(HANDLE h) noexcept {
    BY_HANDLE_FILE_INFORMATION info{};
    return ::GetFileInformationByHandle(h, &info) &&
           (info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0;
}

}  // namespace

OwnedHandle& OwnedHandle::operator=(OwnedHandle&& o) noexcept {
    if (this != &o) {
        if (h_ != no_handle) ::CloseHandle(h_);
        h_ = o.release();
    }
    return *this;
}

OwnedHandle::~OwnedHandle() {
    if (h_ != no_handle) ::CloseHandle(h_);
}

std::optional<OwnedHandle> create_file_exclusive(const Location& where, unsigned permissions) {
    auto security = windows::SecurityAttributes::for_region(permissions);
    if (security.get() == nullptr) {
        throw_system_error(ErrorCode::system_error, where, "building its security descriptor",
                           static_cast<int>(::GetLastError()));
    }
    // CREATE_NEW fails on anything at the path, a symbolic link included: never followed.
    const HANDLE h = ::CreateFileW(windows::widen(where.name).c_str(), GENERIC_READ | GENERIC_WRITE,
                                   share_all, security.get(), CREATE_NEW, FILE_ATTRIBUTE_NORMAL,
                                   nullptr);
    if (h == INVALID_HANDLE_VALUE) {
        const DWORD err = ::GetLastError();
        if (err == ERROR_FILE_EXISTS || err == ERROR_ALREADY_EXISTS) return std::nullopt;
        throw_system_error(where, "CreateFile", static_cast<int>(err));
    }
    return OwnedHandle(h);
}

std::optional<OwnedHandle> open_file(const Location& where) {
    OwnedHandle h(valid_or_null(open_path(where, GENERIC_READ | GENERIC_WRITE | READ_CONTROL)));
    if (!h) {
        const int err = last_error();
        if (is_not_found(err)) return std::nullopt;
        throw_system_error(where, "CreateFile", err);
    }
    if (is_reparse_point(h.get())) {
        throw Error(ErrorCode::untrusted_region, where.name,
                    fmt::format("{} is a symbolic link or another reparse point; refusing to "
                                "follow it",
                                display_name(where)));
    }
    return h;
}

OwnedHandle open_existing(const Location& where, bool writable, int& native_error) noexcept {
    HANDLE h = nullptr;
    if (where.backing == Backing::memory) {
        try {
            const DWORD access =
                FILE_MAP_READ | (writable ? FILE_MAP_WRITE : 0) | SECTION_QUERY | READ_CONTROL;
            h = ::OpenFileMappingW(access, FALSE, windows::widen(where.name).c_str());
        } catch (...) {
            ::SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        }
    } else {
        h = valid_or_null(
            open_path(where, GENERIC_READ | (writable ? GENERIC_WRITE : 0) | READ_CONTROL));
    }
    native_error = h == nullptr ? last_error() : 0;
    return OwnedHandle(h);
}

std::optional<ObjectId> identity(Handle h) noexcept {
    if (!is_file(h)) return mapping_object_id;
    BY_HANDLE_FILE_INFORMATION info{};
    if (!::GetFileInformationByHandle(h, &info)) return std::nullopt;
    return ObjectId{info.dwVolumeSerialNumber,
                    (static_cast<std::uint64_t>(info.nFileIndexHigh) << 32) | info.nFileIndexLow};
}

NameLookup::Result compare_with_name(const Location& where, const ObjectId& ours) noexcept {
    int err = 0;
    const OwnedHandle named = open_existing(where, false, err);
    if (!named) return is_not_found(err) ? NameLookup::Result::absent : NameLookup::Result::unknown;
    const auto id = identity(named.get());
    if (!id) return NameLookup::Result::unknown;
    return *id == ours ? NameLookup::Result::same : NameLookup::Result::other;
}

std::optional<std::string> untrusted_reason(Handle h) {
    if (!is_file(h)) {
        // A file-mapping object: its owner was checked when it was opened by name
        // (memory_object.cpp), through a handle of our own with READ_CONTROL.
        return std::nullopt;
    }
    if (is_reparse_point(h)) return std::string("is a symbolic link or another reparse point");
    return windows::foreign_owner(h, windows::ObjectKind::file);
}

std::uint64_t object_size(Handle h, const Location& where) {
    if (is_file(h)) {
        LARGE_INTEGER size{};
        if (!::GetFileSizeEx(h, &size)) {
            throw_system_error(ErrorCode::system_error, where, "GetFileSizeEx", last_error());
        }
        return static_cast<std::uint64_t>(size.QuadPart);
    }
    __int64 size = 0;  // what winapi::get_file_mapping_size (NtQuerySection) fills
    if (!boost::interprocess::winapi::get_file_mapping_size(h, size)) {
        throw_system_error(ErrorCode::system_error, where, "NtQuerySection", last_error());
    }
    return static_cast<std::uint64_t>(size);
}

// A file is extended to its size now (a full disk is no_space here, not an in-page error at
// first touch). A file-mapping object was sized, and its pages charged to the commit limit,
// when it was created.
void preallocate(Handle h, std::uint64_t size, const Location& where) {
    if (!is_file(h)) return;
    FILE_END_OF_FILE_INFO end{};
    end.EndOfFile.QuadPart = static_cast<LONGLONG>(size);
    if (::SetFileInformationByHandle(h, FileEndOfFileInfo, &end, sizeof end)) return;
    const int err = last_error();
    if (error_code_for(err) == ErrorCode::no_space) {
        throw Error(ErrorCode::no_space, where.name,
                    fmt::format("{}: no space for {} bytes ({})", display_name(where), size,
                                describe_error(err)));
    }
    throw_system_error(where, "SetFileInformationByHandle", err);
}

bool read_at(Handle h, std::uint64_t offset, void* out, std::size_t size) noexcept {
    if (is_file(h)) {
        OVERLAPPED at{};
        at.Offset = static_cast<DWORD>(offset);
        at.OffsetHigh = static_cast<DWORD>(offset >> 32);
        DWORD got = 0;
        return ::ReadFile(h, out, static_cast<DWORD>(size), &got, &at) && got == size;
    }
    const void* view = ::MapViewOfFile(h, FILE_MAP_READ, 0, 0, static_cast<SIZE_T>(offset + size));
    if (view == nullptr) return false;
    std::memcpy(out, static_cast<const char*>(view) + offset, size);
    ::UnmapViewOfFile(view);
    return true;
}

std::optional<std::chrono::nanoseconds> age(Handle h) noexcept {
    FILETIME written{};
    if (!is_file(h) || !::GetFileTime(h, nullptr, nullptr, &written)) return std::nullopt;
    FILETIME now{};
    ::GetSystemTimeAsFileTime(&now);
    auto units = [](const FILETIME& t) {
        return static_cast<std::int64_t>((static_cast<std::uint64_t>(t.dwHighDateTime) << 32) |
                                         t.dwLowDateTime);
    };
    return std::chrono::nanoseconds((units(now) - units(written)) * 100);
}

bool remove_name(const Location& where) noexcept {
    if (where.backing == Backing::memory) return false;  // goes with its last handle
    try {
        return ::DeleteFileW(windows::widen(where.name).c_str()) != 0;
    } catch (...) {
        return false;
    }
}

}  // namespace shmrec::platform
