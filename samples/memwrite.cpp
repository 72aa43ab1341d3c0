// memwrite: publishes student records into a named shared region, like the seed's
// MemWrite.cpp, then a new record every --interval until SIGINT/SIGTERM or --count records.
#include <csignal>
#include <cstdio>
#include <ctime>

#include <CLI/CLI.hpp>
#include <shmrec/shmrec.hpp>

#include "student_format.hpp"

namespace {

// Sleeps up to `ms`, returning false early when SIGINT or SIGTERM arrives (both are blocked
// and collected here, so no async handler is needed).
bool sleep_unless_signalled(const sigset_t& signals, unsigned ms) {
    timespec timeout{static_cast<time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1'000'000L};
    return sigtimedwait(&signals, nullptr, &timeout) < 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Publish school.Student records into a shmrec latest-value cell"};
    std::string name = samples::default_region;
    std::string file;
    unsigned interval_ms = 1000;
    std::uint64_t count = 0;
    app.add_option("--name", name, "Shared-memory region name")->capture_default_str();
    app.add_option("--file", file, "Use a file-backed region at this path instead");
    app.add_option("--interval", interval_ms, "Milliseconds between records")->capture_default_str();
    app.add_option("--count", count, "Stop after this many records (0: run until SIGINT/SIGTERM)")
        ->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    const shmrec::Location where =
        file.empty() ? shmrec::Location::memory(name) : shmrec::Location::file(file);
    try {
        // open_or_create: a region left behind by a writer that died is taken over (its
        // liveness lock is free); one with a live writer is refused with writer_active.
        auto writer = shmrec::Cell<school::Student>::writer(where, shmrec::OpenMode::open_or_create);
        std::printf("memwrite: publishing into %s\n", where.name.c_str());
        for (std::uint64_t k = 0; count == 0 || k < count; ++k) {
            const auto stu = samples::make_student(k);
            writer.publish(stu);
            std::printf("published %s\n", samples::describe(stu).c_str());
            std::fflush(stdout);
            if (count != 0 && k + 1 == count) break;
            if (!sleep_unless_signalled(signals, interval_ms)) break;
        }
        // A clean exit: readers see `closed`, and the name goes away.
        writer.close();
        shmrec::Region::remove(where);
        std::printf("memwrite: closed %s\n", where.name.c_str());
    } catch (const shmrec::Error& e) {
        std::fprintf(stderr, "memwrite: %s\n", e.what());
        return 1;
    }
    return 0;
}
