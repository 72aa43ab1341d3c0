// Raw access to a region's backing file, bypassing the runtime: for tests that damage a header
// or pre-create hostile files. Memory regions live at /dev/shm/<name> on Linux.
//
// On Windows a memory region is a named file-mapping object, not a file: shm_path(name) is the
// object's name, create_file() creates a foreign object of that name (kept alive until
// release_kept_objects(), kept_objects.hpp), poke_header() maps the live object (keep_alive()
// it first if the region is closed meanwhile) and file_size_of() is its mapped size (whole
// pages). Fd and resize_file() are Linux-only: an object cannot change size.
#pragma once

#if defined(_WIN32)

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "kept_objects.hpp"  // <windows.h>
#include <sddl.h>
#include "shmrec/detail/region_header.hpp"

namespace shmrec_test {

inline std::string shm_path(const std::string& name) {
    return name;
}

// A memory region (or any file-mapping object) exists under `name`.
inline bool shm_exists(const std::string& name) {
    const HANDLE h = ::OpenFileMappingW(FILE_MAP_READ, FALSE, object_name(name).c_str());
    if (h == nullptr) return ::GetLastError() == ERROR_ACCESS_DENIED;
    ::CloseHandle(h);
    return true;
}

// The system's page size.
inline std::uint64_t page_size() {
    SYSTEM_INFO info{};
    ::GetSystemInfo(&info);
    return info.dwPageSize;
}

[[noreturn]] inline void throw_last_error(const std::string& what) {
    throw std::system_error(static_cast<int>(::GetLastError()), std::system_category(), what);
}

namespace detail {
// A whole-object view of the mapping `name`; its size in bytes (whole pages).
struct ObjectView {
    explicit ObjectView(const std::string& name, DWORD access = FILE_MAP_ALL_ACCESS) {
        mapping = ::OpenFileMappingW(access, FALSE, object_name(name).c_str());
        if (mapping == nullptr) throw_last_error("OpenFileMapping " + name);
        base = ::MapViewOfFile(mapping, access, 0, 0, 0);
        if (base == nullptr) {
            const DWORD e = ::GetLastError();
            ::CloseHandle(mapping);
            throw std::system_error(static_cast<int>(e), std::system_category(),
                                    "MapViewOfFile " + name);
        }
        MEMORY_BASIC_INFORMATION info{};
        ::VirtualQuery(base, &info, sizeof info);
        size = info.RegionSize;
    }
    ObjectView(const ObjectView&) = delete;
    ObjectView& operator=(const ObjectView&) = delete;
    ~ObjectView() {
        ::UnmapViewOfFile(base);
        ::CloseHandle(mapping);
    }
    HANDLE mapping = nullptr;
    void* base = nullptr;
    std::uint64_t size = 0;
};
}  // namespace detail

inline std::uint64_t file_size_of(const std::string& name) {
    return detail::ObjectView(name, FILE_MAP_READ).size;
}

namespace detail {
// "O:<user>D:P(A;;GA;;;<user>)": owned by this user, who alone has access. What a program of this
// user gets on Windows when it creates an object with default security (NULL attributes); Wine
// gives such an object no owner at all, which is not what the tests mean by a foreign object of
// the same user.
inline std::wstring owner_only_sddl() {
    HANDLE token = nullptr;
    if (!::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &token)) return {};
    DWORD size = 0;
    ::GetTokenInformation(token, TokenUser, nullptr, 0, &size);
    std::vector<unsigned char> buffer(size);
    wchar_t* sid = nullptr;
    const bool ok = ::GetTokenInformation(token, TokenUser, buffer.data(), size, &size) &&
                    ::ConvertSidToStringSidW(
                        reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid, &sid);
    ::CloseHandle(token);
    if (!ok) return {};
    const std::wstring user = sid;
    ::LocalFree(sid);
    return L"O:" + user + L"D:P(A;;GA;;;" + user + L")";
}
}  // namespace detail

// Creates the file-mapping object `name` (paging-file backed, owned by this user and open to it
// alone) exclusively, sized `size`, holding `contents` at its start (zero filled past them);
// kept alive until release_kept_objects(). `mode` has no meaning here.
inline void create_file(const std::string& name, std::span<const std::byte> contents,
                        std::uint64_t size, unsigned /*mode*/ = 0600) {
    PSECURITY_DESCRIPTOR descriptor = nullptr;
    if (!::ConvertStringSecurityDescriptorToSecurityDescriptorW(
            detail::owner_only_sddl().c_str(), SDDL_REVISION_1, &descriptor, nullptr)) {
        throw_last_error("security descriptor for " + name);
    }
    const std::unique_ptr<void, decltype(&::LocalFree)> hold(descriptor, &::LocalFree);
    SECURITY_ATTRIBUTES attributes{sizeof attributes, descriptor, FALSE};
    const HANDLE h = ::CreateFileMappingW(INVALID_HANDLE_VALUE, &attributes, PAGE_READWRITE,
                                          static_cast<DWORD>(size >> 32),
                                          static_cast<DWORD>(size), object_name(name).c_str());
    if (h == nullptr) throw_last_error("CreateFileMapping " + name);
    if (::GetLastError() == ERROR_ALREADY_EXISTS) {
        ::CloseHandle(h);
        throw std::system_error(static_cast<int>(ERROR_ALREADY_EXISTS), std::system_category(),
                                "create " + name);
    }
    keep_handle(h);
    if (!contents.empty()) {
        void* p = ::MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
        if (p == nullptr) throw_last_error("MapViewOfFile " + name);
        std::memcpy(p, contents.data(), contents.size());
        ::UnmapViewOfFile(p);
    }
}

// Maps the whole object read-write and hands its first bytes to `poke` as a RegionHeader.
inline void poke_header(const std::string& name,
                        const std::function<void(shmrec::detail::RegionHeader&, std::byte* base,
                                                 std::uint64_t size)>& poke) {
    detail::ObjectView view(name);
    auto* base = static_cast<std::byte*>(view.base);
    poke(*reinterpret_cast<shmrec::detail::RegionHeader*>(base), base, view.size);
}

}  // namespace shmrec_test

#else  // POSIX

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <system_error>

#include "kept_objects.hpp"
#include "shmrec/detail/region_header.hpp"

namespace shmrec_test {

inline std::string shm_path(const std::string& name) {
    return "/dev/shm/" + name;
}

// A memory region (or anything else) exists under `name` in /dev/shm.
inline bool shm_exists(const std::string& name) {
    struct stat st {};
    return ::lstat(shm_path(name).c_str(), &st) == 0;
}

// The system's page size.
inline std::uint64_t page_size() {
    return static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

[[noreturn]] inline void throw_errno(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

// An open descriptor, closed on destruction.
class Fd {
  public:
    explicit Fd(int fd) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

  private:
    int fd_;
};

inline std::uint64_t file_size_of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw_errno("stat " + path);
    return static_cast<std::uint64_t>(st.st_size);
}

inline void resize_file(const std::string& path, std::uint64_t size) {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) throw_errno("truncate " + path);
}

// Creates `path` exclusively with exactly `mode` and the given contents, sized `size` (zero
// filled past the contents).
inline void create_file(const std::string& path, std::span<const std::byte> contents,
                        std::uint64_t size, mode_t mode = 0600) {
    Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode));
    if (fd.get() < 0) throw_errno("create " + path);
    if (::fchmod(fd.get(), mode) != 0) throw_errno("fchmod " + path);
    if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) throw_errno("ftruncate " + path);
    if (!contents.empty() && ::pwrite(fd.get(), contents.data(), contents.size(), 0) !=
                                 static_cast<ssize_t>(contents.size())) {
        throw_errno("pwrite " + path);
    }
}

// Maps the whole file read-write and hands its first bytes to `poke` as a RegionHeader.
inline void poke_header(const std::string& path,
                        const std::function<void(shmrec::detail::RegionHeader&, std::byte* base,
                                                 std::uint64_t size)>& poke) {
    Fd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
    if (fd.get() < 0) throw_errno("open " + path);
    const std::uint64_t size = file_size_of(path);
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    if (p == MAP_FAILED) throw_errno("mmap " + path);
    auto* base = static_cast<std::byte*>(p);
    poke(*reinterpret_cast<shmrec::detail::RegionHeader*>(base), base, size);
    ::munmap(p, size);
}

}  // namespace shmrec_test

#endif  // POSIX
