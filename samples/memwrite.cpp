// memwrite: publishes student records into a named shared region, like the seed's
// MemWrite.cpp.
//   default       a latest-value cell: Student{99041232, "SecBug"}, then a new record every
//                 --interval ms until Ctrl+C / SIGTERM or --count records
//   --ring N      streams N records (ids 0..N-1) through a lossless ring of --capacity slots
//   --broadcast N publishes N records into a broadcast ring of --capacity slots (after
//                 --readers readers attached)
//   --table N     streams N school.Enrolment records (FlatBuffers tables with a string and a
//                 vector) through a table ring of --capacity bytes, each built in place in
//                 shared memory
#include <cstdio>
#include <vector>

#include <CLI/CLI.hpp>
#include <shmrec/shmrec.hpp>

#include <shmrec/table_ring.hpp>

#include "enrolment_format.hpp"
#include "stop_signal.hpp"
#include "student_format.hpp"

namespace {

using namespace std::chrono_literals;
using school::Student;

int run_cell(const shmrec::Location& where, samples::StopSignal& stop, unsigned interval_ms,
             std::uint64_t count) {
    // open_or_create: a region left behind by a writer that died is taken over (its liveness
    // lock is free); one with a live writer is refused with writer_active.
    auto writer = shmrec::Cell<Student>::writer(where, shmrec::OpenMode::open_or_create);
    std::printf("memwrite: publishing into %s\n", where.name.c_str());
    for (std::uint64_t k = 0; count == 0 || k < count; ++k) {
        const auto stu = samples::make_student(k);
        if (const auto s = writer.try_write(stu); s != shmrec::WriteStatus::ok) {
            std::fprintf(stderr, "memwrite: write failed: %s\n", std::string(to_string(s)).c_str());
            return 1;
        }
        std::printf("published %s\n", samples::describe(stu).c_str());
        std::fflush(stdout);
        if (count != 0 && k + 1 == count) break;
        if (!stop.sleep_unless_stopped(interval_ms)) break;
    }
    writer.close();  // readers see `closed`
    return 0;
}

int run_ring(const shmrec::Location& where, samples::StopSignal& stop, std::uint64_t n,
             std::uint64_t capacity) {
    auto writer = shmrec::Ring<Student>::writer(where, capacity, shmrec::OpenMode::create_only);
    std::printf("memwrite: streaming %llu records through ring %s (capacity %llu)\n",
                static_cast<unsigned long long>(n), where.name.c_str(),
                static_cast<unsigned long long>(capacity));
    std::fflush(stdout);
    std::vector<Student> batch;
    for (std::uint64_t i = 0; i < n;) {
        batch.clear();
        for (std::uint64_t j = 0; j < 256 && i + j < n; ++j) batch.push_back(samples::stream_student(i + j));
        const auto r = writer.write(std::span<const Student>(batch), 1s);
        i += r.count;
        switch (r.status) {
            case shmrec::WriteStatus::ok:
            case shmrec::WriteStatus::timeout:    // the reader is slow: keep trying
            case shmrec::WriteStatus::no_reader:  // no reader yet: keep waiting for one
            case shmrec::WriteStatus::full: break;
            case shmrec::WriteStatus::reader_gone:
                std::fprintf(stderr, "memwrite: the reader of ring '%s' died\n", where.name.c_str());
                return 2;
            case shmrec::WriteStatus::loan_pending:
            case shmrec::WriteStatus::handle_forked:
            case shmrec::WriteStatus::moved_from:
            case shmrec::WriteStatus::wrong_size:
            case shmrec::WriteStatus::too_large:
                std::fprintf(stderr, "memwrite: %s\n", std::string(to_string(r.status)).c_str());
                return 1;
        }
        if (stop.stopped()) break;
    }
    // Let the reader take everything before the name goes away.
    for (;;) {
        const auto s = writer.drain(1s);
        if (s == shmrec::WriteStatus::ok) break;
        if (s == shmrec::WriteStatus::reader_gone) {
            std::fprintf(stderr, "memwrite: the reader of ring '%s' died\n", where.name.c_str());
            return 2;
        }
        if (stop.stopped()) break;
    }
    writer.close();
    std::printf("memwrite: wrote %llu records\n", static_cast<unsigned long long>(writer.written()));
    return 0;
}

int run_broadcast(const shmrec::Location& where, samples::StopSignal& stop, std::uint64_t n,
                  std::uint64_t capacity, unsigned interval_ms, std::uint32_t readers) {
    auto writer = shmrec::Broadcast<Student>::writer(where, capacity, shmrec::OpenMode::create_only);
    std::printf("memwrite: broadcasting %llu records on %s (capacity %llu)\n",
                static_cast<unsigned long long>(n), where.name.c_str(),
                static_cast<unsigned long long>(capacity));
    std::fflush(stdout);
    if (readers > 0 && writer.wait_for_readers(readers, 30s) != shmrec::WriteStatus::ok) {
        std::fprintf(stderr, "memwrite: %u readers did not attach within 30 s\n", readers);
        return 2;
    }
    for (std::uint64_t i = 0; i < n; ++i) {
        if (writer.try_write(samples::stream_student(i)) != shmrec::WriteStatus::ok) return 1;
        if (interval_ms != 0 && !stop.sleep_unless_stopped(interval_ms)) break;
        if (interval_ms == 0 && (i & 0xffff) == 0 && stop.stopped()) break;
    }
    writer.close();
    std::printf("memwrite: wrote %llu records\n", static_cast<unsigned long long>(writer.written()));
    return 0;
}

int run_table(const shmrec::Location& where, samples::StopSignal& stop, std::uint64_t n,
              std::uint64_t capacity) {
    auto writer = shmrec::TableRing<school::Enrolment>::writer(where, capacity);
    std::printf("memwrite: streaming %llu enrolments through table ring %s (%llu bytes)\n",
                static_cast<unsigned long long>(n), where.name.c_str(),
                static_cast<unsigned long long>(capacity));
    std::fflush(stdout);
    for (std::uint64_t i = 0; i < n && !stop.stopped();) {
        // Built where the reader will read it: a FlatBufferBuilder over 256 bytes of the ring
        // (a record that needs more is copied in by commit()).
        auto loan = writer.loan(256, 1s);
        if (!loan) {
            const auto s = loan.status();
            if (s == shmrec::WriteStatus::timeout || s == shmrec::WriteStatus::no_reader) continue;
            std::fprintf(stderr, "memwrite: table ring '%s': %s\n", where.name.c_str(),
                         std::string(to_string(s)).c_str());
            return s == shmrec::WriteStatus::reader_gone ? 2 : 1;
        }
        if (const auto s = loan.commit(samples::build_enrolment(loan.builder(), i));
            s != shmrec::WriteStatus::ok) {
            std::fprintf(stderr, "memwrite: %s\n", std::string(to_string(s)).c_str());
            return 1;
        }
        ++i;
    }
    while (!stop.stopped()) {
        const auto s = writer.drain(1s);
        if (s == shmrec::WriteStatus::ok) break;
        if (s == shmrec::WriteStatus::reader_gone) {
            std::fprintf(stderr, "memwrite: the reader of table ring '%s' died\n", where.name.c_str());
            return 2;
        }
    }
    writer.close();
    std::printf("memwrite: wrote %llu enrolments\n", static_cast<unsigned long long>(writer.written()));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Publish school.Student records through shmrec"};
    std::string name = samples::default_region;
    std::string file;
    unsigned interval_ms = 1000;
    std::uint64_t count = 0;
    std::uint64_t ring = 0;
    std::uint64_t broadcast = 0;
    std::uint64_t table = 0;
    std::uint64_t capacity = 1024;
    std::uint32_t readers = 0;
    app.add_option("--name", name, "Shared-memory region name")->capture_default_str();
    app.add_option("--file", file, "Use a file-backed region at this path instead");
    app.add_option("--interval", interval_ms,
                   "Milliseconds between records (cell: default 1000; broadcast: default 0)");
    app.add_option("--count", count, "Cell: stop after this many records (0: until Ctrl+C or SIGTERM)")
        ->capture_default_str();
    auto* ring_opt = app.add_option("--ring", ring, "Stream this many records through a ring");
    auto* broadcast_opt =
        app.add_option("--broadcast", broadcast, "Publish this many records into a broadcast ring")
            ->excludes(ring_opt);
    app.add_option("--table", table,
                   "Stream this many school.Enrolment tables through a table ring")
        ->excludes(ring_opt)
        ->excludes(broadcast_opt);
    app.add_option("--capacity", capacity,
                   "Ring / broadcast capacity in records, table ring in bytes (a power of two; "
                   "default 1024, table ring 1 MiB)");
    app.add_option("--readers", readers, "Broadcast: wait for this many readers before publishing")
        ->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    samples::StopSignal stop;

    const shmrec::Location where =
        file.empty() ? shmrec::Location::memory(name) : shmrec::Location::file(file);
    int status = 0;
    try {
        if (app.count("--ring") != 0) {
            status = run_ring(where, stop, ring, capacity);
        } else if (app.count("--table") != 0) {
            status = run_table(where, stop, table,
                               app.count("--capacity") != 0 ? capacity : std::uint64_t{1} << 20);
        } else if (app.count("--broadcast") != 0) {
            status = run_broadcast(where, stop, broadcast, capacity,
                                   app.count("--interval") != 0 ? interval_ms : 0, readers);
        } else {
            status = run_cell(where, stop, interval_ms, count);
        }
    } catch (const shmrec::Error& e) {
        std::fprintf(stderr, "memwrite: %s\n", e.what());
        return 1;
    }
    // A clean exit removes the name; readers that have it open keep their mapping.
    shmrec::remove_region(where);
    std::printf("memwrite: closed %s\n", where.name.c_str());
    return status;
}
