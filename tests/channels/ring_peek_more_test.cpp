// The untyped ring consumer's window (untyped.hpp, peek_more): several batches copied out
// without being consumed, each released later, in order (what shmrec-bridge's ring exporter
// does: records leave A's ring only once B has them). One thread, every state forced.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "channel_test_support.hpp"
#include "shmrec/untyped.hpp"
#include "test_records.shmrec.hpp"

namespace {

using namespace std::chrono_literals;
using shmrec::ReadStatus;
using shmrec::WriteStatus;
using shmrec_test::Checked;

class UntypedRingWindow : public shmrec_test::RegionFixture {
  protected:
    static std::vector<std::byte> records(std::uint64_t first, std::size_t count) {
        std::vector<std::byte> out(count * sizeof(Checked));
        for (std::size_t i = 0; i < count; ++i) {
            const Checked c = shmrec_test::make_checked(first + i);
            std::memcpy(out.data() + i * sizeof(Checked), &c, sizeof(Checked));
        }
        return out;
    }
    // The seqs of the first `n` records of `buffer`.
    static std::vector<std::uint64_t> seqs(const std::vector<std::byte>& buffer, std::size_t n) {
        std::vector<std::uint64_t> out;
        for (std::size_t i = 0; i < n; ++i) {
            Checked c{};
            std::memcpy(&c, buffer.data() + i * sizeof(Checked), sizeof(Checked));
            out.push_back(c.seq);
        }
        return out;
    }
    static std::span<std::byte> first(std::vector<std::byte>& buffer, std::size_t n) {
        return std::span(buffer).first(n * sizeof(Checked));
    }
};

TEST_F(UntypedRingWindow, PeekMoreKeepsSeveralBatchesOutAndReleaseConsumesThemInOrder) {
    const std::string region = name();
    auto writer = shmrec::untyped::ring_writer(region, shmrec::RecordType::of<Checked>(), 8);
    auto reader = shmrec::untyped::ring_reader(region);
    std::vector<std::byte> out(8 * sizeof(Checked));
    ASSERT_EQ(writer.try_write_batch(records(0, 6)).count, 6u);

    // Three batches out: 0-1, 2-4, 5. None consumed.
    ASSERT_EQ(reader.try_peek_batch(first(out, 2)).count, 2u);
    EXPECT_EQ(seqs(out, 2), (std::vector<std::uint64_t>{0, 1}));
    ASSERT_EQ(reader.try_peek_more(first(out, 3)).count, 3u);
    EXPECT_EQ(seqs(out, 3), (std::vector<std::uint64_t>{2, 3, 4}));
    ASSERT_EQ(reader.peek_more(out, 1s).count, 1u);
    EXPECT_EQ(seqs(out, 1), (std::vector<std::uint64_t>{5}));
    EXPECT_EQ(reader.peeked(), 6u);
    EXPECT_EQ(reader.consumed(), 0u);
    EXPECT_EQ(reader.try_peek_more(out).status, ReadStatus::empty);
    EXPECT_EQ(reader.peek_more(out, 10ms).status, ReadStatus::timeout);

    // The ring fills: every slot is out, the writer has no room and a further peek finds none.
    ASSERT_EQ(writer.try_write_batch(records(6, 2)).count, 2u);
    EXPECT_EQ(writer.try_write_batch(records(8, 1)).status, WriteStatus::full);
    ASSERT_EQ(reader.try_peek_more(out).count, 2u);
    EXPECT_EQ(seqs(out, 2), (std::vector<std::uint64_t>{6, 7}));
    EXPECT_EQ(reader.try_peek_more(out).status, ReadStatus::empty);
    EXPECT_EQ(reader.peek_more(out, 10ms).status, ReadStatus::timeout);

    // The first batch confirmed: its records leave, the writer has room for that many, and
    // the next peek_more continues after the records still out.
    EXPECT_EQ(reader.release(2), 2u);
    EXPECT_EQ(reader.consumed(), 2u);
    EXPECT_EQ(reader.peeked(), 6u);
    ASSERT_EQ(writer.try_write_batch(records(8, 3)).count, 2u);
    ASSERT_EQ(reader.try_peek_more(out).count, 2u);
    EXPECT_EQ(seqs(out, 2), (std::vector<std::uint64_t>{8, 9}));
    // Release is clamped to what is out.
    EXPECT_EQ(reader.release(100), 8u);
    EXPECT_EQ(reader.consumed(), 10u);
    EXPECT_EQ(reader.peeked(), 0u);

    // A close is seen after the records still out: they are not the reader's to lose.
    ASSERT_EQ(writer.try_write_batch(records(10, 1)).count, 1u);
    writer.close();
    ASSERT_EQ(reader.try_peek_more(out).count, 1u);
    EXPECT_EQ(reader.try_peek_more(out).status, ReadStatus::closed);
    EXPECT_EQ(reader.peek_more(out, 1s).status, ReadStatus::closed);
    EXPECT_EQ(reader.release(1), 1u);
    EXPECT_EQ(reader.consumed(), 11u);
}

}  // namespace
