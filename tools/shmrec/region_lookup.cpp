// Finding and classifying regions for the `shmrec` tool (region_lookup.hpp).
#include "region_lookup.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <numeric>

#include <fmt/format.h>
#include <shmrec/detail/region_access.hpp>
#include <shmrec/detail/region_header.hpp>

#include "output.hpp"

namespace shmrec::tool {

namespace {

using detail::RegionHeader;

// How far a zero check reads: a region's magic is at offset 0, so a file whose first bytes
// are zero is no region; reading further only makes "zero-filled" more literally true.
constexpr std::size_t zero_scan_limit = 1u << 20;

std::string path_of(const Location& where) {
    if (where.backing == Backing::file) return where.name;
    return fmt::format("{}/{}", shm_dir, where.name);
}

template <typename T>
T field_at(const unsigned char* bytes, std::size_t offset, bool swap) {
    T value{};
    std::memcpy(&value, bytes + offset, sizeof value);
    if (swap) {
        if constexpr (sizeof(T) == 2) value = static_cast<T>(__builtin_bswap16(value));
        if constexpr (sizeof(T) == 4) value = static_cast<T>(__builtin_bswap32(value));
        if constexpr (sizeof(T) == 8) value = static_cast<T>(__builtin_bswap64(value));
    }
    return value;
}

RawHeader decode(const unsigned char* bytes, std::size_t have, bool swap) {
    RawHeader h;
    h.other_byte_order = swap;
    if (have < sizeof(RegionHeader)) return h;  // truncated: the runtime says so
    h.format_major = field_at<std::uint16_t>(bytes, offsetof(RegionHeader, format_major), swap);
    h.format_minor = field_at<std::uint16_t>(bytes, offsetof(RegionHeader, format_minor), swap);
    h.kind = field_at<std::uint32_t>(bytes, offsetof(RegionHeader, channel_kind), swap);
    h.state = field_at<std::uint32_t>(bytes, offsetof(RegionHeader, state), swap);
    h.capacity = field_at<std::uint64_t>(bytes, offsetof(RegionHeader, capacity), swap);
    const auto* name = reinterpret_cast<const char*>(bytes + offsetof(RegionHeader, record_name));
    h.record_name.assign(name, strnlen(name, detail::max_record_name));
    for (char& c : h.record_name) {
        if (c < 0x20 || c > 0x7e) c = '?';  // bytes of a damaged header, shown to a terminal
    }
    return h;
}

// Another open holds a lock on byte `slot` (F_OFD_GETLK: no access mode needed).
bool lock_held(int fd, std::uint32_t slot) {
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = static_cast<off_t>(slot);
    fl.l_len = 1;
    if (::fcntl(fd, F_OFD_GETLK, &fl) != 0) return false;
    return fl.l_type != F_UNLCK;
}

void classify_bytes(Probe& p, int fd) {
    unsigned char header[sizeof(RegionHeader)] = {};
    const ssize_t got = ::pread(fd, header, sizeof header, 0);
    if (got <= 0) {
        p.content = got == 0 ? Content::empty : Content::unreadable;
        if (got < 0) p.error = errno;
        return;
    }
    const auto have = static_cast<std::size_t>(got);
    std::uint64_t magic = 0;
    if (have >= sizeof magic) std::memcpy(&magic, header, sizeof magic);
    if (magic == detail::region_magic || magic == __builtin_bswap64(detail::region_magic)) {
        p.content = Content::region;
        p.header = decode(header, have, magic != detail::region_magic);
        return;
    }
    // Zero-filled: read on in chunks (bounded) to be sure it is not only the first bytes.
    auto all_zero = [](const unsigned char* b, std::size_t n) {
        return std::all_of(b, b + n, [](unsigned char c) { return c == 0; });
    };
    if (!all_zero(header, have)) {
        p.content = Content::foreign;
        return;
    }
    std::vector<unsigned char> chunk(64 * 1024);
    std::size_t offset = have;
    while (offset < zero_scan_limit) {
        const ssize_t n = ::pread(fd, chunk.data(), chunk.size(), static_cast<off_t>(offset));
        if (n <= 0) break;
        if (!all_zero(chunk.data(), static_cast<std::size_t>(n))) {
            p.content = Content::foreign;
            return;
        }
        offset += static_cast<std::size_t>(n);
    }
    p.content = Content::zero_filled;
}

std::string initialising_text(const Probe& p) {
    return p.writer_lock_held
               ? "initialising: its creator is still setting it up"
               : "initialising, and nobody holds it: its creator died while setting it up "
                 "(shmrec rm removes it; the next writer replaces it anyway)";
}

std::string problem_text(const Error& e, const Probe& p) {
    switch (e.code()) {
        case ErrorCode::untrusted_region:
            if (p.uid != ::geteuid()) {
                return fmt::format("{}: shmrec opens only the current user's regions",
                                   ownership_text(p));
            }
            if ((p.mode & S_IWOTH) != 0) {
                return fmt::format("mode {}: anyone may write it, so shmrec refuses it",
                                   mode_string(p.mode));
            }
            return e.what();
        case ErrorCode::permission_denied:
            return fmt::format("unreadable: {}", ownership_text(p));
        case ErrorCode::init_timeout:
            if (p.header && p.header->state == 0) return initialising_text(p);
            return e.what();
        case ErrorCode::version_mismatch:
            if (p.header) {
                return fmt::format("format {}.{}: this tool reads format {}.x",
                                   p.header->format_major, p.header->format_minor,
                                   SHMREC_FORMAT_MAJOR);
            }
            return e.what();
        case ErrorCode::byte_order_mismatch:
            return "written by a machine of the other byte order";
        default:
            return fmt::format("{} ({})", e.what(), shmrec::to_string(e.code()));
    }
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    std::iota(row.begin(), row.end(), std::size_t{0});
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                               diagonal + (a[i - 1] == b[j - 1] ? 0u : 1u)});
            diagonal = up;
        }
    }
    return row[b.size()];
}

std::size_t common_prefix(std::string_view a, std::string_view b) {
    std::size_t n = 0;
    while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
    return n;
}

}  // namespace

std::string_view to_string(Content c) noexcept {
    switch (c) {
        case Content::missing: return "missing";
        case Content::not_regular: return "not a regular file";
        case Content::unreadable: return "unreadable";
        case Content::empty: return "empty";
        case Content::zero_filled: return "zero-filled";
        case Content::foreign: return "foreign bytes";
        case Content::region: return "region";
    }
    return "unknown";
}

Probe probe(const Location& where) {
    Probe p;
    p.where = where;
    p.path = path_of(where);
    struct stat st {};
    if (::lstat(p.path.c_str(), &st) != 0) {
        p.error = errno;
        p.content = errno == ENOENT || errno == ENOTDIR ? Content::missing : Content::unreadable;
        return p;
    }
    p.uid = st.st_uid;
    p.mode = st.st_mode & 07777u;
    p.size = static_cast<std::uint64_t>(st.st_size);
    p.allocated = static_cast<std::uint64_t>(st.st_blocks) * 512u;
    if (!S_ISREG(st.st_mode)) {
        p.content = Content::not_regular;
        return p;
    }
    // O_NONBLOCK: should the entry have been swapped for a FIFO meanwhile, do not hang on it.
    const int fd = ::open(p.path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        p.error = errno;
        p.content = errno == ENOENT ? Content::missing : Content::unreadable;
        return p;
    }
    struct stat opened {};
    if (::fstat(fd, &opened) != 0 || !S_ISREG(opened.st_mode)) {
        p.content = Content::not_regular;
    } else if (opened.st_size == 0) {
        p.content = Content::empty;
    } else {
        classify_bytes(p, fd);
    }
    p.writer_lock_held = lock_held(fd, static_cast<std::uint32_t>(detail::LockSlot::writer));
    ::close(fd);
    return p;
}

Examined examine(const Location& where) {
    Examined e;
    e.probe = probe(where);
    if (!e.is_region()) return e;
    // Inspection never waits: a region still initialising is reported as such.
    RegionOptions quick;
    quick.init_timeout = std::chrono::milliseconds(0);
    try {
        e.info = inspect_region(where, quick);
    } catch (const Error& err) {
        e.error = err.code();
        e.problem = problem_text(err, e.probe);
    }
    return e;
}

std::vector<Examined> scan(const std::string& dir, Backing backing) {
    std::vector<Examined> found;
    std::error_code ec;
    std::filesystem::directory_iterator it(dir, ec);
    if (ec) return found;
    for (const auto& entry : it) {
        const std::string leaf = entry.path().filename().string();
        Location where = backing == Backing::memory ? Location::memory(leaf)
                                                    : Location::file(entry.path().string());
        try {
            validate_location(where);
        } catch (const Error&) {
            continue;  // not a name shmrec could have made
        }
        Examined e = examine(where);
        if (e.error == ErrorCode::not_found) continue;  // removed while we looked
        if (e.is_region() || e.probe.content == Content::unreadable) {
            if (e.probe.content == Content::unreadable) {
                e.problem = fmt::format("unreadable: {}", ownership_text(e.probe));
            }
            found.push_back(std::move(e));
        }
    }
    std::sort(found.begin(), found.end(), [](const Examined& a, const Examined& b) {
        return a.probe.where.name < b.probe.where.name;
    });
    return found;
}

std::vector<std::string> nearest_names(std::string_view wanted,
                                       const std::vector<std::string>& candidates,
                                       std::size_t max) {
    struct Ranked {
        long score;
        std::string name;
    };
    std::vector<Ranked> ranked;
    const std::size_t tolerance = std::max<std::size_t>(3, wanted.size() / 3);
    for (const auto& c : candidates) {
        if (c == wanted) continue;
        const std::size_t distance = edit_distance(wanted, c);
        const std::size_t prefix = common_prefix(wanted, c);
        // Close in spelling, or sharing a good part of the beginning (the same application's
        // regions usually share a prefix).
        if (distance > tolerance && prefix < std::max<std::size_t>(3, wanted.size() / 2)) continue;
        ranked.push_back({static_cast<long>(distance) - static_cast<long>(prefix / 2), c});
    }
    std::sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) {
        return a.score != b.score ? a.score < b.score : a.name < b.name;
    });
    std::vector<std::string> names;
    for (std::size_t i = 0; i < ranked.size() && i < max; ++i) names.push_back(ranked[i].name);
    return names;
}

std::vector<std::string> nearest_regions(const Location& where, std::size_t max) {
    std::vector<std::string> candidates;
    if (where.backing == Backing::memory) {
        for (const auto& e : scan(std::string(shm_dir), Backing::memory)) {
            candidates.push_back(e.probe.where.name);
        }
        return nearest_names(where.name, candidates, max);
    }
    std::filesystem::path dir = std::filesystem::path(where.name).parent_path();
    if (dir.empty()) dir = ".";
    for (const auto& e : scan(dir.string(), Backing::file)) candidates.push_back(e.probe.where.name);
    return nearest_names(where.name, candidates, max);
}

std::string shown(const Location& where) {
    return where.backing == Backing::memory ? fmt::format("region '{}'", where.name)
                                            : fmt::format("region file '{}'", where.name);
}

std::string not_a_region_text(const Probe& p) {
    switch (p.content) {
        case Content::missing: return "does not exist";
        case Content::not_regular: return "not a shmrec region (not a regular file)";
        case Content::unreadable:
            return fmt::format("cannot be read ({}): {}", std::strerror(p.error), ownership_text(p));
        case Content::empty: return "not a shmrec region (empty)";
        case Content::zero_filled: return "not a shmrec region (zero-filled)";
        case Content::foreign: return "not a shmrec region (its first bytes are not a shmrec header)";
        case Content::region: return "a shmrec region";
    }
    return "unknown";
}

std::string ownership_text(const Probe& p) {
    return fmt::format("owned by user {}, mode {}", user_name(p.uid), mode_string(p.mode));
}

}  // namespace shmrec::tool
