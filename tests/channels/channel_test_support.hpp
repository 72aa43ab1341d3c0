// Helpers of the ring and broadcast channel tests (tests/channels/ only): a tally of a checked
// record stream, and the peer program's "key=value" report lines. Region names, the fixture
// that removes them, the self-checking records, the clocks and the child process come from
// tests/support (test_names.hpp, checked_record.hpp, timing.hpp, child_process.hpp).
#pragma once

#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "shmrec/error.hpp"
#include "shmrec/region.hpp"
#include "shmrec/status.hpp"
#include "checked_record.hpp"
#include "child_process.hpp"
#include "printers.hpp"
#include "test_records.shmrec.hpp"
#include "test_names.hpp"
#include "timing.hpp"

namespace chantest {

using namespace std::chrono_literals;
using shmrec_test::Clock;
using shmrec_test::ms_since;

// ---- records -------------------------------------------------------------------------------

using shmrec_test::checksum_ok;
using shmrec_test::intact;
using shmrec_test::make_checked;

// Tallies what a reader of a lossless stream saw: exact in-order delivery means
// bad == 0, out_of_order == 0 and count == expected.
struct StreamCheck {
    std::uint64_t count = 0;
    std::uint64_t next = 0;          // seq expected next
    std::uint64_t bad = 0;           // checksum failures (torn or garbage records)
    std::uint64_t out_of_order = 0;  // seq != next (lost, duplicated or reordered)
    std::uint64_t first_bad_seq = UINT64_MAX;

    explicit StreamCheck(std::uint64_t first = 0) : next(first) {}

    void see(const shmrec_test::Checked& r) {
        if (!intact(r)) {
            if (bad++ == 0) first_bad_seq = r.seq;
        } else if (r.seq != next) {
            if (out_of_order++ == 0) first_bad_seq = r.seq;
        }
        next = r.seq + 1;
        ++count;
    }
};

// ---- peer processes ------------------------------------------------------------------------

#ifdef SHMREC_CHANNEL_PEER

using shmrec_test::ExitStatus;

// How long a test waits for a peer to exit: the streams here are long.
constexpr std::chrono::milliseconds peer_exit_timeout = 60s;

// A child running shmrec_channel_peer (stdin and stdout on pipes; see ChildProcess). The peer
// speaks "key=value ..." lines, which expect() picks apart.
class Peer : public shmrec_test::ChildProcess {
public:
    explicit Peer(const std::vector<std::string>& args)
        : ChildProcess(SHMREC_CHANNEL_PEER, args) {}
#ifdef SHMREC_CHANNEL_FAULT_PEER
    // The same peer built with fault points (shmrec_channel_fault_peer), with
    // SHMREC_FAULT="<point>:<n>:<action>" in its environment (runtime/include/shmrec/detail/fault.hpp).
    Peer(const std::vector<std::string>& args, const std::string& fault)
        : ChildProcess(SHMREC_CHANNEL_FAULT_PEER, args,
                       shmrec_test::SpawnOptions{{"SHMREC_FAULT=" + fault}, -1, {}}) {}
#endif

    // Reads lines until one starts with `word`; returns its key=value pairs, the whole line
    // under "" (empty on EOF or timeout).
    std::map<std::string, std::string> expect(const std::string& word,
                                              std::chrono::milliseconds timeout = 20s) {
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - Clock::now());
            if (left.count() <= 0) return {};
            const std::string line = read_line(left).value_or("");
            if (line.empty()) return {};
            std::istringstream in(line);
            std::string first;
            in >> first;
            if (first != word) continue;
            std::map<std::string, std::string> kv;
            kv[""] = line;
            std::string tok;
            while (in >> tok) {
                if (auto eq = tok.find('='); eq != std::string::npos) {
                    kv[tok.substr(0, eq)] = tok.substr(eq + 1);
                }
            }
            return kv;
        }
    }
};

#endif  // SHMREC_CHANNEL_PEER

inline std::uint64_t num(const std::map<std::string, std::string>& kv, const std::string& key) {
    auto it = kv.find(key);
    if (it == kv.end()) return UINT64_MAX;
    return std::stoull(it->second);
}

// Retries `open` while the region does not exist yet (a peer that creates it is starting).
template <class Open>
auto open_when_created(Open&& open, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        try {
            return open();
        } catch (const shmrec::Error& e) {
            if (e.code() != shmrec::ErrorCode::not_found || Clock::now() >= deadline) throw;
        }
        std::this_thread::sleep_for(1ms);
    }
}

// The status of a single or a batch write, for one assertion over both.
inline shmrec::WriteStatus status_of(shmrec::WriteStatus s) { return s; }
inline shmrec::WriteStatus status_of(const shmrec::BatchWrite& b) { return b.status; }

}  // namespace chantest
