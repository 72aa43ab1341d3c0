#include "cyclone_config.hpp"

namespace shmrec::bridge {

// Measured A -> B over a veth with 1 % and 5 % of IP packets dropped (docs/bridge.md):
//   NackDelay 0         a reader NACKs as soon as a heartbeat shows a gap; the default 100 ms is
//                       a 100 ms stall of a writer whose history is full, at every loss
//   HeartbeatInterval   2 ms (default 100 ms, at least 20 ms apart): a writer waiting for
//                       acknowledgements asks again soon, so a lost NACK or retransmit costs
//                       milliseconds; periodic heartbeats go out only while data is unacknowledged
//   MaxMessageSize      4352 B, three Ethernet frames (default 14720 B, ten): a datagram larger
//                       than the MTU is IP-fragmented, and one lost frame loses all its DDS
//                       fragments; 1456 B (one frame) halves throughput without loss
// Watermarks (WhcHigh), socket buffer sizes, AutoReschedNackDelay and AckDelay made no difference
// beyond the noise. Not timing:
//   MaxSampleSize       4 MiB (default 2 GiB): received samples are untrusted, and Cyclone
//                       reassembles one before the bridge can check it; the largest the bridge
//                       sends is an identity (two schemas of at most 1 MiB) or a batch (1 MiB)
const std::string_view cyclone_defaults =
    "<CycloneDDS><Domain id=\"any\">"
    "<General><MaxMessageSize>4352B</MaxMessageSize></General>"
    "<Internal><NackDelay>0ms</NackDelay><MaxSampleSize>4MiB</MaxSampleSize>"
    "<HeartbeatInterval min=\"1ms\" minsched=\"2ms\">2ms</HeartbeatInterval></Internal>"
    "</Domain></CycloneDDS>";

std::string cyclone_config(const char* user_uri) {
    std::string config(cyclone_defaults);
    if (user_uri != nullptr && *user_uri != '\0') {
        config += ',';
        config += user_uri;
    }
    return config;
}

}  // namespace shmrec::bridge
