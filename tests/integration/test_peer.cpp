// shmrec_test_peer: the other process of the integration tests. Talks to the test over its
// stdin (commands, one per line) and stdout (one reply line per step); diagnostics go to
// stderr. Exit status 0 means every check this side made passed.
//
//   cell-writer  --name N --count K    create a Checked cell, print "ready", wait for "go",
//                                      write seq 1..K as fast as possible, close,
//                                      print "done <ns>"
//   cell-reader  --name N --expect K   open the cell, print "ready", read continuously until the
//                                      writer closed; every record must be intact and newer
//                                      than the one before, the last one K;
//                                      print "seen <distinct> last <seq>"
//   sleep-writer --name N              create a Checked cell, print "ready", then obey commands:
//                                        publish <seq>           write make_checked(seq)
//                                        publish-stamped <seq> <delay_ms>
//                                                                sleep, then write with
//                                                                b = CLOCK_MONOTONIC ns
//                                        close                   close the cell
//                                        exit                    exit 0 (the handle closes)
//                                      replying "ok" to each; exits 0 at end of input
//   pong --ping A --pong B --count K   open reader of A, create writer of B, print "ready";
//                                      K times: read(timeout) a new record on A, write it on B;
//                                      print "timeouts <t>"; exit 0 only if t == 0
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "checked_record.hpp"
#include "peer_options.hpp"
#include "shmrec/cell.hpp"
#include "timing.hpp"

namespace {

using namespace std::chrono_literals;
using shmrec_test::Checked;
using CheckedCell = shmrec::Cell<Checked>;
using shmrec_test::monotonic_ns;
using shmrec_test::need;

void reply(const std::string& line) {
    std::cout << line << std::endl;
}  // flushed

[[noreturn]] void fail(const std::string& why) {
    std::cerr << "shmrec_test_peer: " << why << std::endl;
    std::exit(1);
}

int cell_writer(const std::map<std::string, std::string>& args) {
    const std::uint64_t count = std::stoull(need(args, "count"));
    auto writer = CheckedCell::writer(need(args, "name"));
    reply("ready");
    std::string line;
    if (!std::getline(std::cin, line) || line != "go") fail("expected 'go'");
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t seq = 1; seq <= count; ++seq) {
        const auto s = writer.try_write(shmrec_test::make_checked(seq));
        if (s != shmrec::WriteStatus::ok) fail("try_write: " + std::string(shmrec::to_string(s)));
    }
    writer.close();
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    reply("done " + std::to_string(ns));
    return 0;
}

int cell_reader(const std::map<std::string, std::string>& args) {
    const std::uint64_t expect = std::stoull(need(args, "expect"));
    auto reader = CheckedCell::reader(need(args, "name"));
    reply("ready");
    std::uint64_t last = 0, distinct = 0;
    const auto give_up = std::chrono::steady_clock::now() + 60s;
    for (std::uint64_t polls = 0;; ++polls) {
        const bool closed = reader.closed();
        Checked rec{};
        const auto r = reader.try_read(rec);
        if (r == shmrec::ReadStatus::ok || r == shmrec::ReadStatus::unchanged) {
            if (!shmrec_test::intact(rec)) {
                fail("torn record, seq " + std::to_string(rec.seq));
            }
            if (rec.seq < last) {
                fail("seq went backwards: " + std::to_string(rec.seq) + " after " +
                     std::to_string(last));
            }
            if (r == shmrec::ReadStatus::ok && rec.seq == last) {
                fail("ok for the record read last, seq " + std::to_string(rec.seq));
            }
            if (r == shmrec::ReadStatus::unchanged && rec.seq != last) {
                fail("unchanged for a new record, seq " + std::to_string(rec.seq) + " after " +
                     std::to_string(last));
            }
            if (rec.seq > last) ++distinct;
            last = rec.seq;
        } else if (r != shmrec::ReadStatus::empty && r != shmrec::ReadStatus::contended) {
            fail("try_read() returned " + std::string(shmrec::to_string(r)));
        }
        if (closed) break;
        if (polls % 4096 == 0) {
            if (!reader.writer_alive()) fail("the writer died before closing");
            if (std::chrono::steady_clock::now() > give_up) fail("gave up after 60 s");
        }
    }
    reply("seen " + std::to_string(distinct) + " last " + std::to_string(last));
    if (last != expect)
        fail("last record " + std::to_string(last) + ", expected " + std::to_string(expect));
    return 0;
}

void publish(CheckedCell::Writer& writer, const Checked& rec) {
    const auto s = writer.try_write(rec);
    if (s != shmrec::WriteStatus::ok) fail("try_write: " + std::string(shmrec::to_string(s)));
}

int sleep_writer(const std::map<std::string, std::string>& args) {
    auto writer = CheckedCell::writer(need(args, "name"));
    reply("ready");
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream in(line);
        std::string cmd;
        in >> cmd;
        if (cmd == "publish") {
            std::uint64_t seq = 0;
            in >> seq;
            publish(writer, shmrec_test::make_checked(seq));
        } else if (cmd == "publish-stamped") {
            std::uint64_t seq = 0, delay_ms = 0;
            in >> seq >> delay_ms;
            std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
            Checked rec = shmrec_test::make_checked(seq);
            rec.b = monotonic_ns();
            rec.checksum = shmrec_test::compute_checksum(rec);
            publish(writer, rec);
        } else if (cmd == "close") {
            writer.close();
        } else if (cmd == "exit") {
            reply("ok");
            return 0;
        } else {
            fail("unknown command '" + line + "'");
        }
        reply("ok");
    }
    return 0;
}

int pong(const std::map<std::string, std::string>& args) {
    const std::uint64_t count = std::stoull(need(args, "count"));
    shmrec::WaitOptions options;
    // Liveness checks also cap each futex sleep: make them rare, so a lost wake-up shows as a
    // timeout instead of being papered over by the next liveness slice.
    options.liveness_interval = 10s;
    auto ping = CheckedCell::reader(need(args, "ping"), shmrec::RegionOptions{}, options);
    auto writer = CheckedCell::writer(need(args, "pong"));
    reply("ready");
    std::uint64_t timeouts = 0;
    for (std::uint64_t i = 1; i <= count; ++i) {
        Checked rec{};
        for (;;) {
            const auto status = ping.read(rec, 1s);
            if (status == shmrec::ReadStatus::ok) break;
            if (status != shmrec::ReadStatus::timeout)
                fail("ping ended early: " + std::string(shmrec::to_string(status)));
            if (++timeouts > 5) fail("too many timeouts");
        }
        if (!shmrec_test::checksum_ok(rec)) fail("bad ping record");
        if (rec.seq != i)
            fail("ping " + std::to_string(rec.seq) + ", expected " + std::to_string(i));
        publish(writer, rec);
    }
    reply("timeouts " + std::to_string(timeouts));
    return timeouts == 0 ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) fail("usage: shmrec_test_peer <cell-writer|cell-reader|sleep-writer|pong> ...");
    const std::string command = argv[1];
    try {
        const auto args = shmrec_test::parse_peer_options(argc, argv);
        if (command == "cell-writer") return cell_writer(args);
        if (command == "cell-reader") return cell_reader(args);
        if (command == "sleep-writer") return sleep_writer(args);
        if (command == "pong") return pong(args);
    } catch (const std::exception& e) {
        fail(e.what());
    }
    fail("unknown command " + command);
}
