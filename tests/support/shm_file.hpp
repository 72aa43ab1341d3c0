// Raw access to a region's backing file, bypassing the runtime: for tests that damage a header
// or pre-create hostile files. Memory regions live at /dev/shm/<name> on Linux.
#pragma once

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

#include "shmrec/detail/region_header.hpp"

namespace shmrec_test {

inline std::string shm_path(const std::string& name) {
    return "/dev/shm/" + name;
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
