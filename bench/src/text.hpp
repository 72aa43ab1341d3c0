// Text for the benchmarks' reports (shmrec-bench, shmrec-bridge-bench): numbers with SI
// suffixes, aligned tables, JSON strings and numbers.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace bench {

// 1234567 -> "1.23M"; keeps three significant digits.
inline std::string si(double v) {
    const char* suffix[] = {"", "k", "M", "G", "T"};
    int i = 0;
    while (std::fabs(v) >= 1000 && i < 4) {
        v /= 1000;
        ++i;
    }
    if (std::fabs(v) >= 100) return fmt::format("{:.0f}{}", v, suffix[i]);
    if (std::fabs(v) >= 10) return fmt::format("{:.1f}{}", v, suffix[i]);
    return fmt::format("{:.2f}{}", v, suffix[i]);
}

inline std::string json_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (static_cast<unsigned char>(c) < 0x20) {
            out += fmt::format("\\u{:04x}", c);
            continue;
        }
        out += c;
    }
    return out;
}

inline std::string json_number(double v) {
    if (!std::isfinite(v)) return "null";
    return fmt::format("{:.6g}", v);
}

// Width of a string as printed (UTF-8 code points).
inline std::size_t width(const std::string& s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xc0) != 0x80; }));
}
inline std::string pad(const std::string& s, std::size_t w) {
    const std::size_t n = width(s);
    return n >= w ? s : s + std::string(w - n, ' ');
}

// Rows of cells in aligned columns, the first row a heading underlined with dashes; every
// line starts with `indent`.
inline void print_table(const std::vector<std::vector<std::string>>& rows,
                        const std::string& indent = "") {
    if (rows.empty()) return;
    std::vector<std::size_t> widths(rows[0].size(), 0);
    for (const auto& r : rows) {
        for (std::size_t i = 0; i < r.size(); ++i) widths[i] = std::max(widths[i], width(r[i]));
    }
    auto print_row = [&](const std::vector<std::string>& cells) {
        std::string line;
        for (std::size_t i = 0; i < cells.size(); ++i) line += pad(cells[i], widths[i]) + "  ";
        while (!line.empty() && line.back() == ' ') line.pop_back();
        fmt::print("{}{}\n", indent, line);
    };
    print_row(rows[0]);
    std::size_t total = 0;
    for (auto w : widths) total += w + 2;
    fmt::print("{}{}\n", indent, std::string(total - 2, '-'));
    for (std::size_t i = 1; i < rows.size(); ++i) print_row(rows[i]);
}

}  // namespace bench
