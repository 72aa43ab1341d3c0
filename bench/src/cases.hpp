// A benchmark case: one transport, run by two processes (side A drives, side B is the peer).
//
//   A: prepare() → spawn B → create() ─barrier─ open() ─barrier─ { steps } ─ close()
//   B:                       create() ─barrier─ open() ─barrier─ { steps } ─ close()
//
// A step is a latency run (A pings, B echoes on a second channel) or a throughput run (A
// sends as fast as it can for a while, then a sentinel; B counts until the sentinel).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "process.hpp"

namespace bench {

enum class Floor : std::uint8_t { cacheline, futex };

// Slot count and bytes per slot of a ring case: the cross-core copy floor of a sweep case
// uses the same footprint. {0, 0}: the case has none.
struct SlotGeometry {
    std::uint64_t slots = 0;
    std::uint64_t stride = 0;
};

struct Received {
    std::uint64_t count = 0;  // records received before the sentinel
    std::uint64_t lost = 0;   // records the transport dropped (broadcast only)
};

inline std::int64_t now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Word 0 of every benchmark record is its sequence number; the sentinel ends a run.
inline constexpr std::uint64_t sentinel = ~std::uint64_t{0};
template <class T>
void set_seq(T& r, std::uint64_t seq) noexcept {
    static_assert(sizeof(T) >= sizeof(seq));
    std::memcpy(static_cast<void*>(&r), &seq, sizeof(seq));  // trivially copyable
}
template <class T>
std::uint64_t get_seq(const T& r) noexcept {
    std::uint64_t seq;
    std::memcpy(&seq, &r, sizeof(seq));
    return seq;
}

class Case {
public:
    virtual ~Case() = default;

    virtual std::string name() const = 0;  // identifier: --peer argument, region names
    virtual std::string label() const { return name(); }  // human-readable, for the table
    virtual std::string group() const = 0;                // "shmrec", "peer", "sweep"
    virtual Floor floor() const { return Floor::cacheline; }
    virtual bool has_latency() const { return true; }
    virtual std::size_t record_size() const { return 32; }
    virtual SlotGeometry slot_geometry() const { return {}; }
    // Why the case cannot run in this build or on this machine; empty when it can.
    virtual std::string skip_reason() const { return {}; }
    // Further throughput variants (e.g. one record per call), numbered 1, 2, ... in send()
    // and receive(); empty when none.
    virtual std::vector<std::string> throughput_variants() const { return {}; }
    // Whether the driver measures the cross-core copy floor of record_size() blocks through
    // slot_geometry() right before and after the throughput runs (the sweep; large tables).
    virtual bool copy_floor() const { return group() == "sweep"; }
    // Also measure the copy floor's in-place form (zero-copy cases: the blocks filled and read
    // where they lie).
    virtual bool in_place_floor() const { return false; }

    // Side A, before the peer starts: descriptors the peer inherits.
    virtual std::vector<int> prepare() { return {}; }
    // Side B: the descriptors prepare() returned, same order.
    virtual void adopt(const std::vector<int>& /*fds*/) {}
    virtual void create(Side) {}
    virtual void open(Side) {}
    virtual void close(Side) {}

    // Latency: A sends record i, B echoes it, A stores the round trip of each in samples[i].
    virtual void ping(std::uint64_t n, std::int64_t* samples) = 0;
    virtual void echo(std::uint64_t n) = 0;
    // Throughput: A sends for `run`, then the sentinel; returns how many it sent. B receives
    // until the sentinel. `variant` 0 is the main form, k > 0 throughput_variants()[k - 1].
    virtual std::uint64_t send(std::chrono::nanoseconds run, int variant) = 0;
    virtual Received receive(int variant) = 0;
};

std::vector<std::unique_ptr<Case>> shmrec_cases();
std::vector<std::unique_ptr<Case>> peer_cases();
std::vector<std::unique_ptr<Case>> iceoryx_cases();
std::vector<std::unique_ptr<Case>> table_cases();

// An in-process figure (no peer): one value per repetition.
struct CostFigure {
    std::string metric;
    std::vector<double> values;
    std::string unit;
};
// What building, verifying and reading the table cases' records costs on one core.
std::vector<CostFigure> table_costs(int reps, std::chrono::nanoseconds run);

// The iceoryx daemon for the whole run; a no-op when iceoryx is not built in.
class IceoryxSession {
public:
    virtual ~IceoryxSession() = default;
};
std::unique_ptr<IceoryxSession> start_iceoryx(const std::string& roudi, const std::string& log);
// Each process that uses iceoryx registers with the daemon once.
void iceoryx_init_runtime(const std::string& name);

}  // namespace bench
