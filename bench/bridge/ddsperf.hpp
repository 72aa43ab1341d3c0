// Cyclone DDS's own measurement tool, ddsperf (Debian cyclonedds-tools), between the two
// hosts: the reference the bridge's figures are divided by (issue 12). Both runs use
// ddsperf's default topic KS (sequence number, key, sequence of octets), reliable, keep-all
// (the QoS of the bridge's batches); "size S" is the sample's serialized payload size.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "two_hosts.hpp"

namespace bridge_bench {

struct DdsperfThroughput {
    double samples_per_s = 0;   // over the subscriber's full one-second reports
    std::uint64_t samples = 0;  // received in those reports
    std::uint64_t lost = 0;     // ddsperf's own count of sequence gaps (reliable: 0)
    double seconds = 0;
};

// `ddsperf pub size S` (as fast as it can) on A, `ddsperf sub` on B, for `duration`.
DdsperfThroughput ddsperf_throughput(const shmrec_bridge_test::TwoHosts& hosts, std::size_t payload,
                                     std::chrono::seconds duration);

struct DdsperfRoundTrip {
    // ddsperf prints percentiles per second only: each figure is the median over those
    // one-second reports (the first, warming up, left out).
    double p50_us = 0;
    double p90_us = 0;
    double p99_us = 0;
    std::uint64_t round_trips = 0;
};

// How ping and pong take their samples: in a listener (ddsperf's default: on Cyclone's receive
// thread) or in a thread of their own woken by a waitset, as the bridge's importer does.
enum class Trigger { listener, waitset };

// `ddsperf ping [R Hz] size S` on A, `ddsperf pong` on B, for `duration`; rate_hz 0: the next
// ping as soon as the pong arrived.
DdsperfRoundTrip ddsperf_round_trip(const shmrec_bridge_test::TwoHosts& hosts, std::size_t payload,
                                    unsigned rate_hz, Trigger trigger,
                                    std::chrono::seconds duration);

}  // namespace bridge_bench
