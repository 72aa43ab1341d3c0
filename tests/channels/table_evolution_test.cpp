// Schema evolution between real processes: a writer built from one version of evo.Grade
// (tests/schemas/evolution/v<N>/grade.fbs) and a reader built from another, each a program of
// its own (table_evolution_peer.cpp). Compatible pairs exchange every record, the fields one
// side lacks reading as their defaults; incompatible pairs are refused at open, the error
// naming the field.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "channel_test_support.hpp"

namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t evolution_records = 200;

class EvolutionPeer : public shmrec_test::ChildProcess {
public:
    EvolutionPeer(int version, const std::vector<std::string>& args)
        : ChildProcess(std::string(SHMREC_EVOLUTION_PEER_PREFIX) + std::to_string(version) +
                           SHMREC_EVOLUTION_PEER_SUFFIX,
                       args) {}
    std::string line() { return read_line(20s).value_or(""); }
};

struct Pair {
    int writer;
    int reader;
    const char* refused_because;  // nullptr: compatible; else a piece of the error's text
};

void PrintTo(const Pair& p, std::ostream* os) {
    *os << "v" << p.writer << " writer, v" << p.reader << " reader";
}

class TableEvolution : public shmrec_test::RegionFixture,
                       public ::testing::WithParamInterface<Pair> {};

TEST_P(TableEvolution, CompatiblePairsExchangeEveryRecordIncompatibleOnesAreRefused) {
    const Pair p = GetParam();
    const std::string n = name();
    EvolutionPeer writer(p.writer, {"write", n, std::to_string(evolution_records)});
    ASSERT_EQ(writer.line(), "done written=" + std::to_string(evolution_records));

    // The writer stays (its stdin open) while the reader attaches: on Windows a paging-file
    // region vanishes with its last handle. Closing its stdin closes the ring.
    EvolutionPeer reader(p.reader,
                         {"read", n, std::to_string(evolution_records), std::to_string(p.writer)});
    const std::string first = reader.line();
    if (p.refused_because == nullptr) {
        EXPECT_EQ(first, "opened");
        // All records, then the writer closes: the reader sees `closed`.
        writer.close_stdin();
        EXPECT_TRUE(writer.wait_exit(20s).ok());
        EXPECT_EQ(reader.line(),
                  "done read=" + std::to_string(evolution_records) + " bad=0 status=closed");
        EXPECT_TRUE(reader.wait_exit(20s).ok());
    } else {
        writer.close_stdin();
        EXPECT_TRUE(writer.wait_exit(20s).ok());
        EXPECT_EQ(first.rfind("error code=incompatible_schema what=", 0), 0u) << first;
        EXPECT_NE(first.find(p.refused_because), std::string::npos) << first;
        EXPECT_NE(first.find("evo.Grade"), std::string::npos) << first;
        EXPECT_EQ(reader.wait_exit(20s), shmrec_test::ExitStatus::code_of(3));
    }
}

// v2 adds trailing fields, v3 an enum value, v4 changes note's type, v5 deprecates student,
// v6 makes note required (tests/schemas/evolution/).
INSTANTIATE_TEST_SUITE_P(
    Versions, TableEvolution,
    ::testing::Values(Pair{1, 1, nullptr}, Pair{1, 2, nullptr}, Pair{2, 1, nullptr},
                      Pair{1, 3, nullptr}, Pair{3, 1, "Mid"}, Pair{1, 4, "'note'"},
                      Pair{4, 1, "'note'"}, Pair{1, 5, nullptr}, Pair{5, 1, nullptr},
                      Pair{1, 6, "'note'"}, Pair{6, 1, nullptr}));

}  // namespace
