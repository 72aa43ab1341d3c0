// memread: opens the region memwrite publishes and prints what arrives, like the seed's
// MemRead.cpp plus the client's "refresh at regular intervals" / "Refresh Now".
//   default       a latest-value cell: prints each new record
//   --ring N      reads N records from a ring, verifies none was lost, duplicated or
//                 reordered, prints the count and the rate
//   --broadcast   reads a broadcast ring until the writer closes it, prints received/lost
//   --table N     reads N school.Enrolment tables from a table ring, each verified by
//                 FlatBuffers' Verifier and read in place, and checks every field
//
// Exit status: 0 when the writer closed the region cleanly or the records asked for arrived
// intact; 1 when the region cannot be used (missing, not a shmrec region, another record
// type...) or a record was wrong; 2 when the writer died.
#include <chrono>
#include <cstdio>
#include <vector>

#include <CLI/CLI.hpp>
#include <shmrec/shmrec.hpp>

#include <shmrec/table_ring.hpp>

#include "enrolment_format.hpp"
#include "student_format.hpp"

namespace {

using namespace std::chrono_literals;
using school::Student;

// Options of every open: wait up to `wait` for memwrite to create the region.
shmrec::RegionOptions waiting_for(std::chrono::milliseconds wait) {
    shmrec::RegionOptions options;
    options.wait_for_creator = wait;
    return options;
}

int writer_died(const shmrec::Location& where) {
    std::fprintf(stderr, "memread: the writer of region '%s' died without closing it\n",
                 where.name.c_str());
    return 2;
}

int run_cell(const shmrec::Location& where, std::chrono::milliseconds wait, std::uint64_t count,
             unsigned refresh_ms) {
    auto reader = shmrec::Cell<Student>::reader(where, waiting_for(wait));
    std::uint64_t received = 0;
    Student stu{};
    for (;;) {
        // Waits for a record newer than the last one printed, at most refresh_ms.
        switch (const auto s = reader.read(stu, std::chrono::milliseconds(refresh_ms))) {
            case shmrec::ReadStatus::ok:
                std::printf("%s\n", samples::describe(stu).c_str());
                std::fflush(stdout);
                if (count != 0 && ++received == count) return 0;
                break;
            case shmrec::ReadStatus::timeout:
            case shmrec::ReadStatus::contended: break;  // try again
            case shmrec::ReadStatus::closed:
                std::printf("memread: the writer closed %s\n", where.name.c_str());
                return 0;
            case shmrec::ReadStatus::writer_gone: return writer_died(where);
            case shmrec::ReadStatus::corrupt:
                std::fprintf(stderr, "memread: region '%s' is corrupt (impossible counters)\n",
                             where.name.c_str());
                return 1;
            case shmrec::ReadStatus::empty:
            case shmrec::ReadStatus::unchanged:
            case shmrec::ReadStatus::sample_pending:
            case shmrec::ReadStatus::handle_forked:
            case shmrec::ReadStatus::moved_from:
            case shmrec::ReadStatus::wrong_size:
                // read(timeout) never returns these for a usable cell reader.
                std::fprintf(stderr, "memread: %s\n", std::string(to_string(s)).c_str());
                return 1;
        }
    }
}

int run_ring(const shmrec::Location& where, std::chrono::milliseconds wait, std::uint64_t n) {
    auto reader = shmrec::Ring<Student>::reader(where, waiting_for(wait));
    std::vector<Student> batch(256);
    std::uint64_t expected = 0;
    std::chrono::steady_clock::time_point start{};
    while (expected < n) {
        const auto r = reader.read(std::span<Student>(batch), 1s);
        if (r.count > 0 && expected == 0) start = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < r.count; ++i) {
            const Student& stu = batch[i];
            if (static_cast<std::uint64_t>(stu.id) != expected || !samples::is_stream_student(stu)) {
                std::fprintf(stderr, "memread: record %llu is wrong: got '%s'\n",
                             static_cast<unsigned long long>(expected),
                             samples::describe(stu).c_str());
                return 1;
            }
            ++expected;
        }
        if (r.status == shmrec::ReadStatus::timeout || r.status == shmrec::ReadStatus::ok) continue;
        if (r.status == shmrec::ReadStatus::writer_gone) return writer_died(where);
        std::fprintf(stderr, "memread: ring '%s' ended after %llu of %llu records (%s)\n",
                     where.name.c_str(), static_cast<unsigned long long>(expected),
                     static_cast<unsigned long long>(n),
                     std::string(shmrec::to_string(r.status)).c_str());
        return 1;
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("memread: received %llu records in order, none lost or duplicated; %.2f M records/s\n",
                static_cast<unsigned long long>(expected), secs > 0 ? static_cast<double>(expected) / secs / 1e6 : 0.0);
    return 0;
}

int run_broadcast(const shmrec::Location& where, std::chrono::milliseconds wait) {
    auto reader = shmrec::Broadcast<Student>::reader(where, shmrec::StartAt::oldest, waiting_for(wait));
    Student stu{};
    std::int64_t last = -1;
    for (;;) {
        const auto s = reader.read(stu, 1s);
        if (s == shmrec::ReadStatus::ok) {
            if (stu.id <= last || !samples::is_stream_student(stu)) {
                std::fprintf(stderr, "memread: broken record after %lld: '%s'\n",
                             static_cast<long long>(last), samples::describe(stu).c_str());
                return 1;
            }
            last = stu.id;
            continue;
        }
        if (s == shmrec::ReadStatus::timeout) continue;
        std::printf("memread: received %llu, lost %llu (of %llu written since this reader started)\n",
                    static_cast<unsigned long long>(reader.received()),
                    static_cast<unsigned long long>(reader.lost()),
                    static_cast<unsigned long long>(reader.position() - reader.start_position()));
        if (s == shmrec::ReadStatus::closed) return 0;
        if (s == shmrec::ReadStatus::writer_gone) return writer_died(where);
        std::fprintf(stderr, "memread: broadcast '%s' is corrupt\n", where.name.c_str());
        return 1;
    }
}

int run_table(const shmrec::Location& where, std::chrono::milliseconds wait, std::uint64_t n) {
    // Opening compares schemas: a writer built from an older or newer enrolment.fbs is accepted
    // when FlatBuffers' evolution rules allow it, refused with the fields named otherwise.
    auto reader = shmrec::TableRing<school::Enrolment>::reader(where, waiting_for(wait));
    std::uint64_t expected = 0;
    std::chrono::steady_clock::time_point start{};
    while (expected < n) {
        auto enrolment = reader.peek(1s);
        if (!enrolment) {
            const auto s = enrolment.status();
            if (s == shmrec::ReadStatus::timeout) continue;
            if (s == shmrec::ReadStatus::writer_gone) return writer_died(where);
            if (s == shmrec::ReadStatus::corrupt && reader.rejected() != 0) {
                std::fprintf(stderr, "memread: enrolment %llu rejected: %s\n",
                             static_cast<unsigned long long>(reader.last_rejection().sequence),
                             reader.last_rejection().reason.c_str());
                return 1;
            }
            std::fprintf(stderr, "memread: table ring '%s' ended after %llu of %llu records (%s)\n",
                         where.name.c_str(), static_cast<unsigned long long>(expected),
                         static_cast<unsigned long long>(n), std::string(to_string(s)).c_str());
            return 1;
        }
        if (expected == 0) {
            start = std::chrono::steady_clock::now();
            std::printf("memread: first enrolment: %s\n", samples::describe(*enrolment).c_str());
        }
        if (!samples::is_enrolment(*enrolment, expected)) {
            std::fprintf(stderr, "memread: enrolment %llu is wrong: got %s\n",
                         static_cast<unsigned long long>(expected),
                         samples::describe(*enrolment).c_str());
            return 1;
        }
        ++expected;
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("memread: received %llu enrolments in order, each verified and intact; %.2f M "
                "records/s\n",
                static_cast<unsigned long long>(expected),
                secs > 0 ? static_cast<double>(expected) / secs / 1e6 : 0.0);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Print the school.Student records published through shmrec"};
    std::string name = samples::default_region;
    std::string file;
    std::uint64_t count = 0;
    std::uint64_t ring = 0;
    std::uint64_t table = 0;
    bool broadcast = false;
    unsigned wait_ms = 0;
    unsigned refresh_ms = 1000;
    app.add_option("--name", name, "Shared-memory region name")->capture_default_str();
    app.add_option("--file", file, "Open a file-backed region at this path instead");
    app.add_option("--count", count, "Cell: stop after this many records (0: until the writer closes)")
        ->capture_default_str();
    auto* ring_opt = app.add_option("--ring", ring, "Read this many records from a ring and verify them");
    auto* broadcast_opt =
        app.add_flag("--broadcast", broadcast, "Read a broadcast ring until the writer closes it")
            ->excludes(ring_opt);
    app.add_option("--table", table, "Read this many enrolment tables from a table ring and verify them")
        ->excludes(ring_opt)
        ->excludes(broadcast_opt);
    app.add_option("--wait", wait_ms, "Wait up to this many ms for the region to appear")
        ->capture_default_str();
    app.add_option("--refresh", refresh_ms, "Cell: longest wait between health checks, in ms")
        ->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    const shmrec::Location where =
        file.empty() ? shmrec::Location::memory(name) : shmrec::Location::file(file);
    const std::chrono::milliseconds wait(wait_ms);
    try {
        if (app.count("--ring") != 0) return run_ring(where, wait, ring);
        if (app.count("--table") != 0) return run_table(where, wait, table);
        if (broadcast) return run_broadcast(where, wait);
        return run_cell(where, wait, count, refresh_ms);
    } catch (const shmrec::Error& e) {
        std::fprintf(stderr, "memread: %s\n", e.what());
        return 1;
    }
}
