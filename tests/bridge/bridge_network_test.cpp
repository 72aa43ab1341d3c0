// shmrec-bridge over a network that is not perfect or not just two hosts: packets dropped with
// nftables, two importers on two hosts behind a switch, and the Cyclone DDS configuration the
// bridge starts with (two_hosts.hpp makes the hosts). Skipped, with the reason, where network
// namespaces cannot be made or the kernel has no nf_tables; `nft` itself missing is a failure
// (tools/install-deps.sh installs it).
#include <gtest/gtest.h>
#include <signal.h>

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "two_hosts.hpp"

namespace {

using namespace std::chrono_literals;
using shmrec_bridge_test::CommandResult;
using shmrec_bridge_test::Host;
using shmrec_bridge_test::Hosts;
using shmrec_bridge_test::run_command;
using shmrec_test::ChildProcess;

const std::string bridge = SHMREC_BRIDGE;
const std::string peer = SHMREC_BRIDGE_TEST_PEER;

std::string lines_of(const ChildProcess& p) {
    std::string all;
    for (const auto& line : p.lines()) all += "  | " + line + "\n";
    return all;
}

// SIGTERM, then the summary line starting with "shmrec-bridge: <verb>" and exit status 0.
std::string summary_at_stop(ChildProcess& p, const std::string& verb) {
    p.signal(SIGTERM);
    const std::string line = p.expect_line("shmrec-bridge: " + verb + " ", 10s);
    const auto status = p.wait_exit(10s);
    EXPECT_TRUE(status.ok()) << status.describe() << "\n" << lines_of(p);
    return line;
}

// A reader on `host` reads `count` students from the oldest, each the one expected (`context`
// is shown when it did not).
void expect_read_in_order(const Host& host, int count, const std::string& context = {}) {
    auto reader = host.spawn(peer, {"students-reader", "--name", "Students", "--count",
                                    std::to_string(count), "--wait-ms", "30000"});
    const auto status = reader->wait_exit(60s);
    reader->read_all(1s);
    EXPECT_TRUE(status.ok()) << host.netns() << ": " << status.describe() << "\n"
                             << lines_of(*reader) << context;
    EXPECT_EQ(reader->lines().empty() ? "" : reader->lines().back(),
              "read " + std::to_string(count) + " in order")
        << host.netns();
}

// Stops the exporter: it exported `count` records.
void expect_exported(ChildProcess& exporter, int count) {
    const std::string exported = summary_at_stop(exporter, "exported");
    EXPECT_NE(exported.find("exported " + std::to_string(count) + " records"), std::string::npos)
        << exported;
}

// Stops an importer: it imported `count` records, none missing, none twice. Returns its summary.
std::string expect_imported(ChildProcess& importer, int count) {
    const std::string imported = summary_at_stop(importer, "imported");
    EXPECT_NE(imported.find("imported " + std::to_string(count) + " records"), std::string::npos)
        << imported;
    EXPECT_NE(imported.find("lost at the source 0, missing 0, duplicates 0, refused 0"),
              std::string::npos)
        << imported;
    return imported;
}

CommandResult nft(const Host& host, std::vector<std::string> args) {
    args.insert(args.begin(), {"ip", "netns", "exec", host.netns(), "nft"});
    return run_command(args);
}

// Drops `percent` % of the IPv4 packets arriving on `host`'s interface, at random, counted. The
// netdev ingress hook sees every frame as it came off the wire, before IP reassembly: a datagram
// larger than the MTU travels as several frames and is lost when any of them is, as on a real
// link. Returns the reason when nf_tables is not usable here (the test is then skipped); fails
// the test when nft is missing or refuses otherwise.
std::optional<std::string> drop_packets(const Host& host, int percent) {
    const CommandResult table = nft(host, {"add", "table", "netdev", "shmrec_loss"});
    if (!table.ok) {
        if (table.output.find("not supported") != std::string::npos) {
            return "nf_tables is not usable here: " + table.output;
        }
        ADD_FAILURE() << "nft add table: " << table.output;
        return std::nullopt;
    }
    const CommandResult chain =
        nft(host, {"add", "chain", "netdev", "shmrec_loss", "ingress", "{", "type", "filter",
                   "hook", "ingress", "device", host.interface(), "priority", "0", ";", "policy",
                   "accept", ";", "}"});
    EXPECT_TRUE(chain.ok) << "nft add chain: " << chain.output;
    const CommandResult rule = nft(
        host, {"add", "rule", "netdev", "shmrec_loss", "ingress", "meta", "protocol", "ip",
               "numgen", "random", "mod", "100", "<", std::to_string(percent), "counter", "drop"});
    EXPECT_TRUE(rule.ok) << "nft add rule: " << rule.output;
    return std::nullopt;
}

// The packets drop_packets() dropped on `host` so far.
std::uint64_t dropped(const Host& host) {
    const CommandResult r = nft(host, {"list", "chain", "netdev", "shmrec_loss", "ingress"});
    std::uint64_t packets = 0;
    const auto at = r.output.find("counter packets ");
    if (!r.ok || at == std::string::npos ||
        std::sscanf(r.output.c_str() + at, "counter packets %" SCNu64, &packets) != 1) {
        ADD_FAILURE() << "no drop counter on " << host.netns() << ": " << r.output;
    }
    return packets;
}

class BridgeNetworkTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (const auto why = Hosts::unavailable()) GTEST_SKIP() << "hosts: " << *why;
    }

    // A → B with `percent` % of the packets dropped on both veth ends (each end drops what
    // arrives on it: batches on B's, acknowledgements, NACKs and heartbeats on A's) and every
    // record still delivered, in order, exactly once.
    void nothing_lost_with(int percent) {
        constexpr int count = 200000;  // 6.4 MB of records: some 4500 Ethernet frames
        hosts_ = Hosts::create(2);
        ASSERT_TRUE(run_command({"nft", "--version"}).ok)
            << "nft is not installed (tools/install-deps.sh installs Debian's nftables)";
        for (const Host* h : {&hosts_->a(), &hosts_->b()}) {
            if (const auto why = drop_packets(*h, percent)) GTEST_SKIP() << *why;
            ASSERT_FALSE(HasFailure());
        }

        // All records are in the source region before the exporter starts: a broadcast larger
        // than the records cannot lap the exporter, so whatever is missing at B was lost on the
        // way and not repaired.
        auto writer = hosts_->a().spawn(peer, {"students-writer", "--name", "Students", "--count",
                                               std::to_string(count), "--capacity", "262144"});
        ASSERT_EQ(writer->read_line(20s).value_or("(nothing)"), "written " + std::to_string(count));
        auto importer = hosts_->b().spawn(bridge, {"import", "Students", "--as", "Students"});
        auto exporter = hosts_->a().spawn(bridge, {"export", "Students"});

        expect_read_in_order(hosts_->b(), count, lines_of(*importer) + lines_of(*exporter));
        expect_exported(*exporter, count);
        const std::string imported = expect_imported(*importer, count);
        std::printf("%d %% of packets dropped: %s\n", percent, imported.c_str());

        // The loss was real: about `percent` % of the frames of batches arriving on B. A
        // receives far fewer packets (acknowledgements), so at 1 % it may lose none.
        const std::uint64_t dropped_on_b = dropped(hosts_->b());
        const std::uint64_t dropped_on_a = dropped(hosts_->a());
        std::printf("dropped: %" PRIu64 " packets arriving on A, %" PRIu64 " arriving on B\n",
                    dropped_on_a, dropped_on_b);
        EXPECT_GT(dropped_on_b, 0u);
        if (percent >= 5) {
            EXPECT_GT(dropped_on_a, 0u);
        }

        writer->close_stdin();
        EXPECT_TRUE(writer->wait_exit(10s).ok());
    }

    std::unique_ptr<Hosts> hosts_;
};

TEST_F(BridgeNetworkTest, NothingIsLostWhenOnePercentOfPacketsIsDropped) {
    nothing_lost_with(1);
}

TEST_F(BridgeNetworkTest, NothingIsLostWhenFivePercentOfPacketsAreDropped) {
    nothing_lost_with(5);
}

// One exporter on A, importers on B and C behind a switch: each gets every record, in order.
TEST_F(BridgeNetworkTest, TwoImportersOnTwoHostsEachReceiveEveryRecordInOrder) {
    constexpr int count = 100000;
    hosts_ = Hosts::create(3);
    std::vector<std::unique_ptr<ChildProcess>> importers;
    for (const Host* h : {&hosts_->b(), &hosts_->c()}) {
        importers.push_back(h->spawn(bridge, {"import", "Students", "--as", "Students"}));
    }

    // The region exists, empty, so the exporter announces it; the records come once the
    // exporter counts both importers. The batches topic is volatile: an importer that matched
    // after a batch was published would never get that batch.
    auto writer = hosts_->a().spawn(
        peer, {"students-writer", "--name", "Students", "--count", "0", "--capacity", "131072"});
    ASSERT_EQ(writer->read_line(20s).value_or("(nothing)"), "written 0");
    auto exporter = hosts_->a().spawn(bridge, {"export", "Students"});
    for (auto& importer : importers) {
        ASSERT_NE(importer->expect_line(
                      "shmrec-bridge: importing topic 'Students' (broadcast of school.Student",
                      20s),
                  "")
            << lines_of(*importer) << lines_of(*exporter);
    }
    std::string counted;
    while (counted.find("(2 now)") == std::string::npos) {
        counted = exporter->expect_line("shmrec-bridge: an importer subscribed", 20s);
        ASSERT_NE(counted, "") << lines_of(*exporter);
    }
    writer->send("write " + std::to_string(count));
    ASSERT_EQ(writer->read_line(20s).value_or("(nothing)"), "written " + std::to_string(count));

    expect_read_in_order(hosts_->b(), count);
    expect_read_in_order(hosts_->c(), count);
    expect_exported(*exporter, count);
    for (auto& importer : importers) expect_imported(*importer, count);
    writer->close_stdin();
    EXPECT_TRUE(writer->wait_exit(10s).ok());
}

// The bridge starts Cyclone DDS with its own timing defaults, then the user's CYCLONEDDS_URI:
// what the user sets wins, the rest keeps the bridge's values. Cyclone's configuration trace
// (requested through CYCLONEDDS_URI itself) shows the values in use.
TEST_F(BridgeNetworkTest, AUsersCycloneddsUriOverridesTheBridgesDefaultsAndKeepsTheRest) {
    hosts_ = Hosts::create(2);
    const Host& a = hosts_->a();
    shmrec_test::SpawnOptions options;
    options.env.push_back(
        "CYCLONEDDS_URI=<Tracing><Category>config</Category>"
        "<OutputFile>/dev/shm/cyclone-config.log</OutputFile></Tracing>,"
        "<Internal><NackDelay>50ms</NackDelay></Internal>");
    ChildProcess importer("ip", a.command(bridge, {"import", "Students", "--as", "Students"}),
                          options);
    ASSERT_NE(importer.expect_line("shmrec-bridge: waiting for an exporter", 20s), "")
        << lines_of(importer);
    summary_at_stop(importer, "imported");

    std::ifstream file(a.shm() / "cyclone-config.log");
    const std::string trace{std::istreambuf_iterator<char>(file), {}};
    ASSERT_FALSE(trace.empty()) << "no configuration trace in " << a.shm();
    EXPECT_NE(trace.find("Internal/NackDelay/#text: 50 ms"), std::string::npos) << trace;
    EXPECT_NE(trace.find("Internal/HeartbeatInterval/#text: 2 ms"), std::string::npos) << trace;
    EXPECT_NE(trace.find("General/MaxMessageSize/#text: 4352 B"), std::string::npos) << trace;
    EXPECT_NE(trace.find("Internal/MaxSampleSize/#text: 4 MiB"), std::string::npos) << trace;
}

}  // namespace
