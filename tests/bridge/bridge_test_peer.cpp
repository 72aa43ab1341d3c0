// The bridge tests' peer: the local writer and reader on either side of a bridge, run on a
// simulated host (two_hosts.hpp). Prints on stdout, errors on stderr, exit status 0 on success.
//
//   students-writer --name N --count K --capacity C [--take-over yes]
//       creates a Broadcast<school::Student> of capacity C, writes students 0..K-1
//       (id i, name "student-i"), prints "written K"; then, for each line "write M" on stdin,
//       writes the next M students and prints "written <total>"; at the end of stdin closes
//       the region (a clean close) and exits. With --take-over, takes over the region N of a
//       writer that died (or creates it) and goes on from its position: student p at position p
//   students-reader --name N --count K --wait-ms W
//       waits up to W ms for the region, reads K records from the oldest, checks that record i
//       is student i; prints "read K in order", or the first wrong record and exits 1. When
//       the region's writer dies it waits (20 s) for another to take the region over
//   students-runs --name N --count K --wait-ms W
//       reads K records from the oldest (as students-reader) and prints the runs of
//       consecutive ids they hold, "runs 0-999 0-499"; a repeat or a gap starts a new run
//   student-cell-writer --name N
//       creates a Cell<school::Student>; for each line "set K" on stdin writes student K and
//       prints "set K"; at the end of stdin closes the cell
//   student-cell-reader --name N --until K --wait-ms W
//       waits up to W ms for the cell, then reads its values as they change until it holds
//       student K; checks that ids only grow; prints "latest K after M values"
//   student-ring-writer --name N --count K --capacity C
//       creates a Ring<school::Student> of capacity C and writes students 0..K-1, waiting for
//       room as needed; prints "full at P" the first time the ring had no room for student P,
//       then "written K"; keeps the ring until stdin ends, then closes it
//   student-ring-reader --name N --count K --wait-ms W [--pause-at P]
//       waits up to W ms for the ring, takes its consumer role and reads K students, checking
//       that each is the next one (from the ring's consumed position); prints "read K in order
//       from F". When the ring's writer dies it waits (20 s) for another to take it over. With
//       --pause-at, after P records prints "paused at P" and reads on once a line comes on stdin
//   other-writer --name N
//       creates a Broadcast<shmrec_test::Other> of capacity 64, writes 3 records, prints
//       "written 3", keeps the region until stdin ends
//   written --name N
//       prints "<record name> written <count>" for the region (no role taken)
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>

#include <shmrec/broadcast.hpp>
#include <shmrec/cell.hpp>
#include <shmrec/ring.hpp>
#include <shmrec/untyped.hpp>

#include "peer_options.hpp"
#include "student.shmrec.hpp"
#include "test_records.shmrec.hpp"

namespace {

using namespace std::chrono_literals;
using shmrec_test::need;
using shmrec_test::PeerOptions;

[[noreturn]] void fail(const std::string& why) {
    std::cerr << "shmrec_bridge_test_peer: " << why << std::endl;
    std::exit(1);
}

// --wait-ms W: how long to wait for the region to be created.
shmrec::RegionOptions waiting_for_creator(const PeerOptions& args) {
    shmrec::RegionOptions options;
    options.wait_for_creator = std::chrono::milliseconds(std::stoull(need(args, "wait-ms")));
    return options;
}

void hold_until_stdin_ends() {
    std::string line;
    while (std::getline(std::cin, line)) {
    }
}

int students_writer(const PeerOptions& args) {
    const bool take_over = args.count("take-over") != 0;
    auto writer = shmrec::Broadcast<school::Student>::writer(
        need(args, "name"), std::stoull(need(args, "capacity")),
        take_over ? shmrec::OpenMode::open_or_create : shmrec::OpenMode::create_only);
    std::uint64_t written = writer.written();
    auto write = [&](std::uint64_t count) {
        for (std::uint64_t end = written + count; written < end; ++written) {
            school::Student s{};
            s.id = static_cast<std::int64_t>(written);
            s.name = "student-" + std::to_string(written);
            if (writer.try_write(s) != shmrec::WriteStatus::ok) fail("write failed");
        }
        std::cout << "written " << written << std::endl;
    };
    write(std::stoull(need(args, "count")));
    std::string line;
    while (std::getline(std::cin, line)) {
        if (line.rfind("write ", 0) != 0) fail("unknown command " + line);
        write(std::stoull(line.substr(6)));
    }
    writer.close();
    return 0;
}

shmrec::Broadcast<school::Student>::Reader students_from_oldest(const PeerOptions& args) {
    const shmrec::RegionOptions options = waiting_for_creator(args);
    return shmrec::Broadcast<school::Student>::reader(need(args, "name"), shmrec::StartAt::oldest,
                                                      options);
}

// The next student of a broadcast's or a ring's reader.
template <class Reader>
school::Student next_student(Reader& reader, std::uint64_t i) {
    school::Student s{};
    shmrec::ReadStatus st = reader.read(s, 20s);
    // A writer that died (an importer killed) is waited for: its heir goes on.
    while (st == shmrec::ReadStatus::writer_gone &&
           reader.wait_for_writer(20s) == shmrec::ReadStatus::ok) {
        st = reader.read(s, 20s);
    }
    if (st != shmrec::ReadStatus::ok) {
        fail("record " + std::to_string(i) + ": " + std::string(shmrec::to_string(st)));
    }
    return s;
}

int students_reader(const PeerOptions& args) {
    const std::uint64_t count = std::stoull(need(args, "count"));
    auto reader = students_from_oldest(args);
    for (std::uint64_t i = 0; i < count; ++i) {
        const school::Student s = next_student(reader, i);
        const std::string name = "student-" + std::to_string(i);
        if (s.id != static_cast<std::int64_t>(i) || s.name.view() != name) {
            fail("record " + std::to_string(i) + " is {" + std::to_string(s.id) + ", " +
                 s.name.str() + "}, expected {" + std::to_string(i) + ", " + name + "}");
        }
    }
    if (reader.lost() != 0) fail("lost " + std::to_string(reader.lost()));
    std::cout << "read " << count << " in order" << std::endl;
    return 0;
}

int students_runs(const PeerOptions& args) {
    const std::uint64_t count = std::stoull(need(args, "count"));
    auto reader = students_from_oldest(args);
    std::string runs;
    std::int64_t first = 0, last = 0;
    for (std::uint64_t i = 0; i < count; ++i) {
        const std::int64_t id = next_student(reader, i).id;
        if (i > 0 && id == last + 1) {
            last = id;
            continue;
        }
        if (i > 0) runs += " " + std::to_string(first) + "-" + std::to_string(last);
        first = last = id;
    }
    if (count > 0) runs += " " + std::to_string(first) + "-" + std::to_string(last);
    if (reader.lost() != 0) fail("lost " + std::to_string(reader.lost()));
    std::cout << "runs" << runs << std::endl;
    return 0;
}

int student_cell_writer(const PeerOptions& args) {
    auto writer = shmrec::Cell<school::Student>::writer(need(args, "name"));
    std::string line;
    while (std::getline(std::cin, line)) {
        if (line.rfind("set ", 0) != 0) fail("unknown command " + line);
        school::Student s{};
        s.id = std::stoll(line.substr(4));
        s.name = "student-" + std::to_string(s.id);
        if (writer.try_write(s) != shmrec::WriteStatus::ok) fail("write failed");
        std::cout << "set " << s.id << std::endl;
    }
    writer.close();
    return 0;
}

int student_cell_reader(const PeerOptions& args) {
    const std::int64_t until = std::stoll(need(args, "until"));
    const shmrec::RegionOptions options = waiting_for_creator(args);
    auto reader = shmrec::Cell<school::Student>::reader(need(args, "name"), options);
    std::int64_t last = -1;
    for (std::uint64_t values = 1;; ++values) {
        school::Student s{};
        const shmrec::ReadStatus st = reader.read(s, 20s);
        if (st != shmrec::ReadStatus::ok) fail("value " + std::string(shmrec::to_string(st)));
        if (s.id <= last) {
            fail("student " + std::to_string(s.id) + " after " + std::to_string(last));
        }
        if (s.name.view() != "student-" + std::to_string(s.id)) fail("bad name " + s.name.str());
        last = s.id;
        if (last == until) {
            std::cout << "latest " << last << " after " << values << " values" << std::endl;
            return 0;
        }
    }
}

int student_ring_writer(const PeerOptions& args) {
    auto writer = shmrec::Ring<school::Student>::writer(need(args, "name"),
                                                        std::stoull(need(args, "capacity")));
    const std::uint64_t count = std::stoull(need(args, "count"));
    bool told = false;
    for (std::uint64_t i = 0; i < count; ++i) {
        school::Student s{};
        s.id = static_cast<std::int64_t>(i);
        s.name = "student-" + std::to_string(i);
        shmrec::WriteStatus st = writer.try_write(s);
        if (st != shmrec::WriteStatus::ok && !told) {
            std::cout << "full at " << i << std::endl;
            told = true;
        }
        // no_reader: a ring nobody has consumed from yet says so when full.
        for (int tries = 0; st != shmrec::WriteStatus::ok && tries < 60; ++tries) {
            st = writer.write(s, 1s);
        }
        if (st != shmrec::WriteStatus::ok) fail("write: " + std::string(shmrec::to_string(st)));
    }
    std::cout << "written " << count << std::endl;
    hold_until_stdin_ends();
    writer.close();
    return 0;
}

int student_ring_reader(const PeerOptions& args) {
    const std::uint64_t count = std::stoull(need(args, "count"));
    const shmrec::RegionOptions options = waiting_for_creator(args);
    auto reader = shmrec::Ring<school::Student>::reader(need(args, "name"), options);
    const std::uint64_t from = reader.consumed();
    const std::uint64_t pause_at =
        args.count("pause-at") != 0 ? std::stoull(args.at("pause-at")) : count;
    for (std::uint64_t i = from; i < from + count; ++i) {
        if (i - from == pause_at) {
            std::cout << "paused at " << pause_at << std::endl;
            std::string line;
            std::getline(std::cin, line);
        }
        const school::Student s = next_student(reader, i);
        if (s.id != static_cast<std::int64_t>(i) || s.name.view() != "student-" + std::to_string(i)) {
            fail("record " + std::to_string(i) + " is {" + std::to_string(s.id) + ", " +
                 s.name.str() + "}");
        }
    }
    std::cout << "read " << count << " in order from " << from << std::endl;
    return 0;
}

int other_writer(const PeerOptions& args) {
    auto writer = shmrec::Broadcast<shmrec_test::Other>::writer(need(args, "name"), 64);
    for (int i = 0; i < 3; ++i) {
        shmrec_test::Other o{};
        o.x = i;
        if (writer.try_write(o) != shmrec::WriteStatus::ok) fail("write failed");
    }
    std::cout << "written 3" << std::endl;
    hold_until_stdin_ends();
    return 0;
}

int written(const PeerOptions& args) {
    const auto monitor = shmrec::ChannelMonitor::open(need(args, "name"));
    std::cout << monitor.info().record_name << " written " << monitor.state().written << std::endl;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) fail("usage: shmrec_bridge_test_peer VERB --option value ...");
    const std::string verb = argv[1];
    try {
        const auto args = shmrec_test::parse_peer_options(argc, argv);
        if (verb == "students-writer") return students_writer(args);
        if (verb == "students-reader") return students_reader(args);
        if (verb == "students-runs") return students_runs(args);
        if (verb == "student-cell-writer") return student_cell_writer(args);
        if (verb == "student-cell-reader") return student_cell_reader(args);
        if (verb == "student-ring-writer") return student_ring_writer(args);
        if (verb == "student-ring-reader") return student_ring_reader(args);
        if (verb == "other-writer") return other_writer(args);
        if (verb == "written") return written(args);
    } catch (const std::exception& e) {
        fail(verb + ": " + e.what());
    }
    fail("unknown verb " + verb);
}
