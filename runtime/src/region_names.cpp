// Region names: how messages show them, and what a valid name is (checked before any system
// call).
#include "region_names.hpp"

#include <fmt/format.h>

#include "shmrec/error.hpp"

namespace shmrec {

namespace {
constexpr std::size_t max_shm_name = 200;  // well inside NAME_MAX (255) with room for a prefix
#if defined(_WIN32)
constexpr bool windows_names = true;
#else
constexpr bool windows_names = false;
#endif
}  // namespace

namespace detail {

std::string display_name(const Location& where) {
    return where.backing == Backing::memory ? fmt::format("region '{}'", where.name)
                                            : fmt::format("region file '{}'", where.name);
}

}  // namespace detail

void validate_location(const Location& where) {
    const std::string& n = where.name;
    auto bad = [&](std::string_view why) {
        std::string shown;
        for (char c : n.substr(0, 64)) {
            shown += (c >= 0x20 && c < 0x7f) ? c : '?';
        }
        throw Error(ErrorCode::invalid_name, n,
                    fmt::format("invalid region {} '{}': {}",
                                where.backing == Backing::memory ? "name" : "path", shown, why));
    };
    if (n.empty()) bad("it is empty");
    if (n.find('\0') != std::string::npos) bad("it contains a NUL byte");
    if (where.backing == Backing::file) {
        if (n.size() >= 4096) bad("longer than 4095 bytes");
        if (n.back() == '/' || (windows_names && n.back() == '\\')) bad("it names a directory");
        return;
    }
    // Windows: a Local\ or Global\ prefix chooses the namespace of the file-mapping object.
    std::string_view bare(n);
    if (windows_names) {
        for (const std::string_view prefix : {"Local\\", "Global\\"}) {
            if (bare.starts_with(prefix)) {
                bare.remove_prefix(prefix.size());
                break;
            }
        }
        if (bare.empty()) bad("it is only a namespace prefix");
    }
    if (n.front() == '/') {
        bad("shared-memory names are given without a leading '/' (drop the leading /: "
            "use '" + n.substr(1, 64) + "')");
    }
    if (bare.size() > max_shm_name) bad(fmt::format("longer than {} characters", max_shm_name));
    if (bare.front() == '.') bad("it starts with '.'");
    for (char c : bare) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
        if (!ok) {
            bad(windows_names ? "only letters, digits, '_', '-' and '.' are allowed (after an "
                                "optional Local\\ or Global\\ prefix)"
                              : "only letters, digits, '_', '-' and '.' are allowed");
        }
    }
}

}  // namespace shmrec
