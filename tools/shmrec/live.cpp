// Shared pieces of tail, stat, record and replay (live.hpp).
#include "live.hpp"

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include <fmt/format.h>
#include <shmrec/error.hpp>

#include "region_view.hpp"
#include "exit_status.hpp"

namespace shmrec::tool {

namespace {

// Written by the signal handler: a lock-free atomic is async-signal-safe.
std::atomic<bool> stop_flag{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_stop_signal(int) { stop_flag.store(true, std::memory_order_relaxed); }

}  // namespace

void install_stop_handlers() {
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART: a sleeping system call returns EINTR
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
}

bool stop_requested() noexcept { return stop_flag.load(std::memory_order_relaxed); }

bool sleep_until(std::chrono::steady_clock::time_point deadline) {
    while (!stop_requested()) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) return true;
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
            deadline - now, poll_interval));
    }
    return false;
}

Opened examine_for_verb(const Location& where, bool json) {
    try {
        validate_location(where);
    } catch (const Error& e) {
        return report_failure(where, e.what(), exit_usage, json, "invalid_name");
    }
    const Examined e = examine(where);
    if (e.probe.content == Content::missing) return report_missing(where, json);
    if (!e.is_region()) {
        return report_failure(where, fmt::format("{}: {}", shown(where), not_a_region_text(e.probe)),
                              exit_failure, json,
                              e.probe.content == Content::unreadable ? "permission_denied"
                                                                     : "not_a_region");
    }
    if (!e.info) {
        return report_failure(where, fmt::format("{}: {}", shown(where), e.problem), exit_failure,
                              json, e.error ? shmrec::to_string(*e.error) : "invalid");
    }
    return *e.info;
}

std::optional<inspect::RecordSchema> decoder_for(std::span<const std::uint8_t> binary_schema,
                                                 const std::string& record_name,
                                                 std::uint32_t record_size,
                                                 const std::string& origin) {
    if (binary_schema.empty()) return std::nullopt;
    return inspect::RecordSchema::load(binary_schema, record_name, record_size, origin);
}

std::string hex_json(std::span<const std::byte> record) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out = "{\"hex\":\"";
    out.reserve(out.size() + 2 * record.size() + 2);
    for (const std::byte b : record) {
        const auto v = static_cast<unsigned>(b);
        out += digits[v >> 4];
        out += digits[v & 15];
    }
    out += "\"}";
    return out;
}

bool print_line(const std::string& line, bool flush) {
    if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size()) return false;
    if (std::fputc('\n', stdout) == EOF) return false;
    if (flush && std::fflush(stdout) != 0) return false;
    return true;
}

}  // namespace shmrec::tool
