// The importer against a scripted transport (no network): identities and batches arrive in
// rounds the test chooses, so interleavings that the network produces only now and then (a
// batch before its identity, a batch of an epoch left behind) happen every time.
#include <gtest/gtest.h>

#include <vector>

#include "scripted_import.hpp"

namespace {

using namespace shmrec::bridge;
using shmrec_bridge_test::Arrival;

using ImporterScript = shmrec_bridge_test::ScriptedImport;

TEST_F(ImporterScript, ABatchThatComesBeforeItsIdentityWaitsForIt) {
    // Epoch 2 (A's region created anew) sends its first batch before its identity arrives.
    const ImportCounts c = run({{identity(1), students(1, 0, 10)},
                                {students(2, 0, 5)},
                                {students(2, 5, 5)},
                                {identity(2)}});
    std::vector<std::int64_t> expected = range(0, 10);
    for (std::int64_t i = 0; i < 10; ++i) expected.push_back(i);
    EXPECT_EQ(ids_in_region(), expected);
    EXPECT_EQ(c.records, 20u);
    EXPECT_EQ(c.refused, 0u);
    EXPECT_EQ(c.missing, 0u);
    EXPECT_EQ(c.duplicates, 0u);
}

TEST_F(ImporterScript, ABatchOfAnotherKindOfSourceIsRefusedOnceItsIdentityIsKnown) {
    // A cell of the same record, exported on the same topic: its batch comes first.
    const ImportCounts c = run({{identity(1), students(1, 0, 10)},
                                {students(2, 0, 1)},
                                {identity(2, SourceKind::cell)},
                                {students(2, 1, 1), students(1, 10, 2)}});
    EXPECT_EQ(ids_in_region(), range(0, 12));
    EXPECT_EQ(c.records, 12u);
    EXPECT_EQ(c.refused, 3u);  // the cell's identity and its two batches
}

TEST_F(ImporterScript, BatchesOfAnEpochLeftBehindAreRefused) {
    const ImportCounts c = run({{identity(1), students(1, 0, 10)},
                                {identity(2), students(2, 0, 3)},
                                {students(1, 10, 5), students(2, 3, 3)}});
    std::vector<std::int64_t> expected = range(0, 10);
    for (std::int64_t i = 0; i < 6; ++i) expected.push_back(i);
    EXPECT_EQ(ids_in_region(), expected);
    EXPECT_EQ(c.refused, 1u);
}

TEST_F(ImporterScript, BatchesWhoseSourceNeverAnnouncesItselfAreBoundedAndRefused) {
    std::vector<Arrival> orphans;
    for (std::uint64_t i = 0; i < 300; ++i) orphans.emplace_back(students(9, i, 1));
    const ImportCounts c = run({{identity(1), students(1, 0, 10)}, std::move(orphans)});
    EXPECT_EQ(ids_in_region(), range(0, 10));
    // The oldest beyond the 256 kept waiting when they come, the 256 when the importer stops.
    EXPECT_EQ(c.refused, 300u);
}

}  // namespace
