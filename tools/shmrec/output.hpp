// Output helpers of the `shmrec` tool: aligned tables with headers, sizes and times for
// people, and JSON (always nlohmann::ordered_json: keys keep the order they were set in).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace shmrec::tool {

using Json = nlohmann::ordered_json;

enum class Align { left, right };

// A text table: a header row, then rows; every column as wide as its widest cell. The last
// column is never padded (no trailing blanks).
class Table {
public:
    struct Column {
        std::string header;
        Align align = Align::left;
    };
    explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}
    void add(std::vector<std::string> row);
    bool empty() const noexcept { return rows_.empty(); }
    void print(std::FILE* out = stdout) const;

private:
    std::vector<Column> columns_;
    std::vector<std::vector<std::string>> rows_;
};

// "512 B", "12.0 KiB", "64.0 MiB", "1.5 GiB".
std::string human_size(std::uint64_t bytes);
// "2026-12-02 00:15:25 UTC" from ns since the epoch.
std::string format_time_utc(std::uint64_t ns_since_epoch);
// The user name of `uid`, or the number when it has none.
std::string user_name(uid_t uid);
// "0600".
std::string mode_string(unsigned mode);
// 0x-prefixed, 16 hex digits (64-bit values do not survive JSON numbers in every reader).
std::string hex64(std::uint64_t value);

// Prints `value` indented by two, with a final newline.
void print_json(const Json& value, std::FILE* out = stdout);

}  // namespace shmrec::tool
