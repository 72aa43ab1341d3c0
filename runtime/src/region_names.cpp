// Region names: how messages show them, and what a valid name is (checked before any system
// call).
#include "region_names.hpp"

#include <fmt/format.h>

#include "shmrec/error.hpp"

namespace shmrec {

namespace {
constexpr std::size_t max_shm_name = 200;  // well inside NAME_MAX (255) with room for a prefix
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
        if (n.back() == '/') bad("it names a directory");
        return;
    }
    if (n.front() == '/') {
        bad("shared-memory names are given without a leading '/' (drop the leading /: "
            "use '" + n.substr(1, 64) + "')");
    }
    if (n.size() > max_shm_name) bad(fmt::format("longer than {} characters", max_shm_name));
    if (n.front() == '.') bad("it starts with '.'");
    for (char c : n) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
        if (!ok) bad("only letters, digits, '_', '-' and '.' are allowed");
    }
}

}  // namespace shmrec
