// Output helpers of the `shmrec` tool (output.hpp).
#include "output.hpp"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>

#include <fmt/format.h>

namespace shmrec::tool {

void Table::add(std::vector<std::string> row) {
    row.resize(columns_.size());
    rows_.push_back(std::move(row));
}

void Table::print(std::FILE* out) const {
    std::vector<std::size_t> width(columns_.size());
    for (std::size_t c = 0; c < columns_.size(); ++c) width[c] = columns_[c].header.size();
    for (const auto& row : rows_) {
        for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
    }
    auto line = [&](const std::vector<std::string>& cells) {
        std::string text;
        for (std::size_t c = 0; c < cells.size(); ++c) {
            const bool last = c + 1 == cells.size();
            if (c > 0) text += "  ";
            if (columns_[c].align == Align::right) {
                text += fmt::format("{:>{}}", cells[c], width[c]);
            } else if (last) {
                text += cells[c];
            } else {
                text += fmt::format("{:<{}}", cells[c], width[c]);
            }
        }
        fmt::print(out, "{}\n", text);
    };
    std::vector<std::string> headers;
    for (const auto& column : columns_) headers.push_back(column.header);
    line(headers);
    for (const auto& row : rows_) line(row);
}

std::string human_size(std::uint64_t bytes) {
    if (bytes < 1024) return fmt::format("{} B", bytes);
    static constexpr const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    double value = static_cast<double>(bytes) / 1024.0;
    std::size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < std::size(units)) {
        value /= 1024.0;
        ++unit;
    }
    return fmt::format("{:.1f} {}", value, units[unit]);
}

std::string format_time_utc(std::uint64_t ns_since_epoch) {
    const auto secs = static_cast<std::time_t>(ns_since_epoch / 1'000'000'000ull);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

std::string user_name(uid_t uid) {
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
        return found->pw_name;
    }
    return std::to_string(uid);
}

std::string mode_string(unsigned mode) { return fmt::format("{:04o}", mode & 07777u); }

std::string hex64(std::uint64_t value) { return fmt::format("0x{:016x}", value); }

void print_json(const Json& value, std::FILE* out) {
    fmt::print(out, "{}\n", value.dump(2));
}

}  // namespace shmrec::tool
