// memread: opens the region memwrite publishes and prints each new record, like the seed's
// MemRead.cpp plus the client's "refresh at regular intervals" / "Refresh Now".
//
// Exit status: 0 when the writer closed the region cleanly or --count records were read;
// 1 when the region cannot be used (missing, not a shmrec region, another record type...);
// 2 when the writer died without closing it.
#include <chrono>
#include <cstdio>
#include <thread>

#include <CLI/CLI.hpp>
#include <shmrec/shmrec.hpp>

#include "student_format.hpp"

namespace {

using Reader = shmrec::Cell<school::Student>::Reader;

// Opens the region, retrying for up to `wait` while it does not exist yet.
Reader open_reader(const shmrec::Location& where, std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
        try {
            return shmrec::Cell<school::Student>::reader(where);
        } catch (const shmrec::Error& e) {
            if (e.code() != shmrec::ErrorCode::not_found ||
                std::chrono::steady_clock::now() >= deadline) {
                throw;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Print the school.Student records published into a shmrec cell"};
    std::string name = samples::default_region;
    std::string file;
    std::uint64_t count = 0;
    unsigned wait_ms = 0;
    unsigned refresh_ms = 1000;
    app.add_option("--name", name, "Shared-memory region name")->capture_default_str();
    app.add_option("--file", file, "Open a file-backed region at this path instead");
    app.add_option("--count", count, "Stop after this many records (0: until the writer closes)")
        ->capture_default_str();
    app.add_option("--wait", wait_ms, "Wait up to this many ms for the region to appear")
        ->capture_default_str();
    app.add_option("--refresh", refresh_ms,
                   "Longest wait between checks of the writer's health, in ms")
        ->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    const shmrec::Location where =
        file.empty() ? shmrec::Location::memory(name) : shmrec::Location::file(file);
    try {
        auto reader = open_reader(where, std::chrono::milliseconds(wait_ms));
        std::uint64_t received = 0;
        school::Student stu{};
        for (;;) {
            if (reader.has_update()) {
                const auto status = reader.read(stu);
                if (status == shmrec::CellRead::ok) {
                    std::printf("%s\n", samples::describe(stu).c_str());
                    std::fflush(stdout);
                    if (count != 0 && ++received == count) return 0;
                } else if (status == shmrec::CellRead::corrupt) {
                    std::fprintf(stderr, "memread: region '%s' is corrupt (impossible counters)\n",
                                 where.name.c_str());
                    return 1;
                }
                continue;
            }
            switch (reader.wait_for_change(std::chrono::milliseconds(refresh_ms))) {
                case shmrec::WaitStatus::changed:
                case shmrec::WaitStatus::timeout: break;
                case shmrec::WaitStatus::closed:
                    std::printf("memread: the writer closed %s\n", where.name.c_str());
                    return 0;
                case shmrec::WaitStatus::writer_gone:
                    std::fprintf(stderr,
                                 "memread: the writer of region '%s' died without closing it\n",
                                 where.name.c_str());
                    return 2;
            }
        }
    } catch (const shmrec::Error& e) {
        std::fprintf(stderr, "memread: %s\n", e.what());
        return 1;
    }
}
