// Results of the data path of every channel: returned, never thrown. One write status and one
// read status for all three channels (docs/api.md lists which verbs return which values).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace shmrec {

enum class WriteStatus : std::uint8_t {
    ok,
    full,           // ring: no room now (try_ forms); the record was not written
    timeout,        // ring: still no room when the timeout passed; or wait_for_readers timed out
    reader_gone,    // ring: full, and its consumer died without coming back
    no_reader,      // ring: full (or not drained), and no consumer ever attached
    loan_pending,   // ring: a Loan of this writer is still open; commit or drop it first
    handle_forked,  // this handle was inherited through fork(): only its creator may use it
    moved_from,     // this handle was moved from: use the one it was moved to
    wrong_size,     // untyped handles: the record span is not type().size bytes; nothing written
                    // (a byte ring's loan: the committed range is not inside its buffer)
    too_large,      // byte ring: the message is larger than the ring's max_message(); nothing
                    // written
};

enum class ReadStatus : std::uint8_t {
    ok,
    empty,           // nothing to read now (try_ forms); cell: nothing was ever written
    unchanged,       // cell: the newest record is the one this reader read last (copied again)
    timeout,         // still nothing new when the timeout passed
    closed,          // the writer closed the channel and everything it wrote was read
    writer_gone,     // the writer died; everything it committed was read
    corrupt,         // the shared counters are impossible for a healthy writer
    contended,       // the writer overwrote the record on every attempt to copy it; try again
    sample_pending,  // ring: a Sample of this reader is still open; drop it first
    handle_forked,   // this handle was inherited through fork(): only its creator may use it
    moved_from,      // this handle was moved from: use the one it was moved to
    wrong_size,      // untyped handles: the record span is not type().size bytes; nothing read
};

constexpr std::string_view to_string(WriteStatus s) noexcept {
    switch (s) {
        case WriteStatus::ok: return "ok";
        case WriteStatus::full: return "full";
        case WriteStatus::timeout: return "timeout";
        case WriteStatus::reader_gone: return "reader_gone";
        case WriteStatus::no_reader: return "no_reader";
        case WriteStatus::loan_pending: return "loan_pending";
        case WriteStatus::handle_forked: return "handle_forked";
        case WriteStatus::moved_from: return "moved_from";
        case WriteStatus::wrong_size: return "wrong_size";
        case WriteStatus::too_large: return "too_large";
    }
    return "unknown";
}

constexpr std::string_view to_string(ReadStatus s) noexcept {
    switch (s) {
        case ReadStatus::ok: return "ok";
        case ReadStatus::empty: return "empty";
        case ReadStatus::unchanged: return "unchanged";
        case ReadStatus::timeout: return "timeout";
        case ReadStatus::closed: return "closed";
        case ReadStatus::writer_gone: return "writer_gone";
        case ReadStatus::corrupt: return "corrupt";
        case ReadStatus::contended: return "contended";
        case ReadStatus::sample_pending: return "sample_pending";
        case ReadStatus::handle_forked: return "handle_forked";
        case ReadStatus::moved_from: return "moved_from";
        case ReadStatus::wrong_size: return "wrong_size";
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
