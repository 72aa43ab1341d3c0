// Results of the ring and broadcast data path: returned, never thrown.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace shmrec {

enum class WriteStatus : std::uint8_t {
    ok,
    full,         // no room now (try_ forms) — the record was not written
    timeout,      // still no room when the timeout passed
    reader_gone,  // the ring is full and its consumer died without coming back
    handle_forked,  // this handle was inherited through fork(): only its creator may use it
};

enum class ReadStatus : std::uint8_t {
    ok,
    empty,        // nothing to read now (try_ forms)
    timeout,      // still nothing when the timeout passed
    closed,       // the writer closed the channel and everything it wrote was read
    writer_gone,  // the writer died; everything it committed was read
    corrupt,      // the shared counters are impossible for a healthy writer
    handle_forked,  // this handle was inherited through fork(): only its creator may use it
};

constexpr std::string_view to_string(WriteStatus s) noexcept {
    switch (s) {
        case WriteStatus::ok: return "ok";
        case WriteStatus::full: return "full";
        case WriteStatus::timeout: return "timeout";
        case WriteStatus::reader_gone: return "reader_gone";
        case WriteStatus::handle_forked: return "handle_forked";
    }
    return "unknown";
}

constexpr std::string_view to_string(ReadStatus s) noexcept {
    switch (s) {
        case ReadStatus::ok: return "ok";
        case ReadStatus::empty: return "empty";
        case ReadStatus::timeout: return "timeout";
        case ReadStatus::closed: return "closed";
        case ReadStatus::writer_gone: return "writer_gone";
        case ReadStatus::corrupt: return "corrupt";
        case ReadStatus::handle_forked: return "handle_forked";
    }
    return "unknown";
}

// A batch call's outcome: how many records moved, and why it stopped (ok: all of them).
struct BatchWrite {
    std::size_t count;
    WriteStatus status;
};
struct BatchRead {
    std::size_t count;
    ReadStatus status;
};

}  // namespace shmrec
