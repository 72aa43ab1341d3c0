// One end of the schema evolution tests (table_evolution_test.cpp), built once per version of
// tests/schemas/evolution/v<N>/grade.fbs with EVO_VERSION=N: each build knows only its own
// evo.Grade, as two programs of a real system would.
//
//   table_evolution_peer_vN write NAME COUNT
//       creates a table ring, writes COUNT records with every field its version has, then
//       closes it and exits once its stdin ends
//   table_evolution_peer_vN read NAME COUNT WRITER_VERSION
//       opens the ring as its consumer and checks every record against what a writer of
//       WRITER_VERSION wrote, fields it lacks reading as their defaults
//
// Output: "opened", "error code=<ErrorCode> what=<what()>" (exit 3), "done read=N bad=N
// status=<last status>".
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "grade.shmrec.hpp"
#include "shmrec/table_ring.hpp"

#ifndef EVO_VERSION
#error "build with EVO_VERSION=<n>"
#endif

namespace {

using namespace std::chrono_literals;
using GradeRing = shmrec::TableRing<evo::Grade>;

[[maybe_unused]] std::string note_of(std::uint64_t k) { return "note " + std::to_string(k); }
evo::Level level_of(std::uint64_t k) { return k % 2 == 1 ? evo::Level::High : evo::Level::Low; }

int write(const std::string& name, std::uint64_t count) {
    auto writer = GradeRing::writer(name, 1 << 16);
    for (std::uint64_t k = 0; k < count; ++k) {
        flatbuffers::FlatBufferBuilder fbb;
#if EVO_VERSION == 4
        const auto note = static_cast<std::int32_t>(k);
#else
        const auto note = fbb.CreateString(note_of(k));
#endif
#if EVO_VERSION == 2
        const auto tags = fbb.CreateVectorOfStrings({"t " + std::to_string(k)});
#endif
        evo::GradeBuilder b(fbb);
#if EVO_VERSION != 5
        b.add_student(static_cast<std::int64_t>(k));
#endif
        b.add_note(note);
        b.add_level(level_of(k));
#if EVO_VERSION == 2
        b.add_grade(static_cast<float>(k) / 2);
        b.add_tags(tags);
#endif
        fbb.Finish(b.Finish());
        if (const auto s = writer.write(fbb, 5s); s != shmrec::WriteStatus::ok) {
            std::printf("error code=write what=%s\n", std::string(to_string(s)).c_str());
            return 1;
        }
    }
    std::printf("done written=%llu\n", static_cast<unsigned long long>(writer.written()));
    // Stay until the test closes our stdin: a paging-file region (Windows) lives only while a
    // handle to it is open, so the reader must attach before we go.
    for (int c = std::getchar(); c != EOF; c = std::getchar()) {
    }
    writer.close();
    return 0;
}

// What this version's reader expects of record k from a writer of `wv`.
bool as_written(const evo::Grade& g, std::uint64_t k, int wv) {
    bool ok = true;
#if EVO_VERSION != 5
    ok &= g.student() == (wv == 5 ? 0 : static_cast<std::int64_t>(k));
#endif
#if EVO_VERSION == 4
    ok &= g.note() == static_cast<std::int32_t>(k);
#else
    ok &= g.note() != nullptr && g.note()->str() == note_of(k);
#endif
    ok &= g.level() == level_of(k);
#if EVO_VERSION == 2
    ok &= g.grade() == (wv == 2 ? static_cast<float>(k) / 2 : 0.0f);
    ok &= wv == 2 ? (g.tags() != nullptr && g.tags()->size() == 1 &&
                     g.tags()->Get(0)->str() == "t " + std::to_string(k))
                  : g.tags() == nullptr;
#endif
    (void)wv;
    return ok;
}

int read(const std::string& name, std::uint64_t count, int writer_version) {
    try {
        auto reader = GradeRing::reader(name);
        std::printf("opened\n");
        std::uint64_t n = 0, bad = 0;
        shmrec::ReadStatus last = shmrec::ReadStatus::ok;
        while (n < count + 1) {
            auto g = reader.peek(5s);
            if (!g) {
                last = g.status();
                break;
            }
            if (g.sequence() != n || !as_written(*g, n, writer_version)) ++bad;
            ++n;
        }
        std::printf("done read=%llu bad=%llu status=%s\n", static_cast<unsigned long long>(n),
                    static_cast<unsigned long long>(bad), std::string(to_string(last)).c_str());
        return 0;
    } catch (const shmrec::Error& e) {
        std::printf("error code=%s what=%s\n", std::string(to_string(e.code())).c_str(), e.what());
        return 3;
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 3 && args[0] == "write") return write(args[1], std::stoull(args[2]));
    if (args.size() == 4 && args[0] == "read") {
        return read(args[1], std::stoull(args[2]), std::stoi(args[3]));
    }
    std::fprintf(stderr, "usage: %s write NAME COUNT | read NAME COUNT WRITER_VERSION\n", argv[0]);
    return 2;
}
