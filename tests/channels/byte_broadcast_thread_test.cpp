// ByteBroadcast with its writer and readers on threads of one process (each with its own open of
// the region, as processes would have): every message a reader accepts is intact, and
// received() + lost() accounts for every message exactly, however far the writer laps it.
// ThreadSanitizer targets too.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "channel_test_support.hpp"
#include "shmrec/byte_broadcast.hpp"

namespace {

using namespace std::chrono_literals;
using shmrec::ByteBroadcast;
using shmrec::ReadStatus;
using shmrec::WriteStatus;

const shmrec::MessageType quote_type{"test.Quote", 0x51};

// Message k: its number in the first 8 bytes, then `size - 8` bytes derived from k.
std::vector<std::byte> make_message(std::uint64_t k) {
    const std::size_t size = 8 + (k * 37) % 200;
    std::vector<std::byte> m(size);
    std::memcpy(m.data(), &k, 8);
    for (std::size_t i = 8; i < size; ++i) m[i] = static_cast<std::byte>((k + i * 13) & 0xff);
    return m;
}
// The k a message claims to be, if it is intact.
bool intact(const std::vector<std::byte>& m, std::uint64_t& k) {
    if (m.size() < 8) return false;
    std::memcpy(&k, m.data(), 8);
    return m == make_message(k);
}

class ByteBroadcastTest : public shmrec_test::RegionFixture {};

TEST_F(ByteBroadcastTest, ReadersFromOldestAndNewestAndLossCountedWhenLapped) {
    const std::string n = name();
    auto w = ByteBroadcast::writer(n, quote_type, 1024);
    for (std::uint64_t k = 0; k < 3; ++k) ASSERT_EQ(w.try_write(make_message(k)), WriteStatus::ok);
    auto oldest = ByteBroadcast::reader(n, quote_type, shmrec::StartAt::oldest);
    auto newest = ByteBroadcast::reader(n, quote_type, shmrec::StartAt::newest);
    std::vector<std::byte> m;
    std::uint64_t k = 0;
    ASSERT_EQ(newest.try_read(m), ReadStatus::ok);
    ASSERT_TRUE(intact(m, k));
    EXPECT_EQ(k, 2u);
    EXPECT_EQ(newest.try_read(m), ReadStatus::empty);
    ASSERT_EQ(oldest.try_read(m), ReadStatus::ok);
    ASSERT_TRUE(intact(m, k));
    EXPECT_EQ(k, 0u);
    // Lap the oldest reader many times over.
    for (std::uint64_t j = 3; j < 500; ++j) ASSERT_EQ(w.try_write(make_message(j)), WriteStatus::ok);
    std::uint64_t last = 0, count = 0;
    while (oldest.try_read(m) == ReadStatus::ok) {
        ASSERT_TRUE(intact(m, k));
        EXPECT_GT(k, last);
        last = k;
        ++count;
    }
    EXPECT_EQ(last, 499u);
    EXPECT_EQ(oldest.received(), count + 1);
    EXPECT_EQ(oldest.received() + oldest.lost(), 500u);
    EXPECT_GT(oldest.lost(), 0u);
    EXPECT_EQ(oldest.next_sequence(), 500u);
}

TEST_F(ByteBroadcastTest, TooLargeIsRefusedAndAClosedWriterEndsTheStream) {
    const std::string n = name();
    auto r = [&] {
        auto w = ByteBroadcast::writer(n, quote_type, 256);
        auto reader = ByteBroadcast::reader(n, quote_type);
        EXPECT_EQ(w.try_write(std::vector<std::byte>(105)), WriteStatus::too_large);
        EXPECT_EQ(w.try_write(make_message(0)), WriteStatus::ok);
        return reader;
    }();
    std::vector<std::byte> m;
    std::uint64_t k = 0;
    ASSERT_EQ(r.read(m, 1s), ReadStatus::ok);
    ASSERT_TRUE(intact(m, k));
    EXPECT_EQ(r.read(m, 1s), ReadStatus::closed);
}

// A writer thread publishing as fast as it can and readers of different speeds: nothing torn
// is ever accepted, order holds, and every message is either received or counted as lost.
class ByteBroadcastThreadStream : public shmrec_test::RegionFixture,
                                  public ::testing::WithParamInterface<std::uint64_t> {};

TEST_P(ByteBroadcastThreadStream, EveryMessageIsReceivedIntactOrCountedLost) {
    const std::string n = name();
    const std::uint64_t capacity = GetParam();
    constexpr std::uint64_t count = shmrec_test::wine_or_sanitizer ? 20'000 : 200'000;
    auto w = ByteBroadcast::writer(n, quote_type, capacity);
    std::vector<ByteBroadcast::Reader> readers;
    for (int i = 0; i < 3; ++i) readers.push_back(ByteBroadcast::reader(n, quote_type));
    std::vector<std::thread> threads;
    std::vector<std::uint64_t> bad(3), disorder(3), received(3), lost(3);
    for (int i = 0; i < 3; ++i) {
        threads.emplace_back([&, i] {
            auto& r = readers[static_cast<std::size_t>(i)];
            std::vector<std::byte> m;
            std::uint64_t k = 0;
            std::int64_t last = -1;
            for (;;) {
                const ReadStatus s = r.read(m, 10s);
                if (s == ReadStatus::contended) continue;
                if (s != ReadStatus::ok) {
                    EXPECT_EQ(s, ReadStatus::closed);
                    break;
                }
                if (!intact(m, k)) {
                    ++bad[static_cast<std::size_t>(i)];
                } else if (static_cast<std::int64_t>(k) <= last) {
                    ++disorder[static_cast<std::size_t>(i)];
                } else {
                    last = static_cast<std::int64_t>(k);
                }
                if (i == 2 && k % 64 == 0) std::this_thread::sleep_for(50us);  // a slow one
            }
            received[static_cast<std::size_t>(i)] = r.received();
            lost[static_cast<std::size_t>(i)] = r.lost();
        });
    }
    for (std::uint64_t k = 0; k < count; ++k) ASSERT_EQ(w.try_write(make_message(k)), WriteStatus::ok);
    w.close();
    for (auto& t : threads) t.join();
    for (std::size_t i = 0; i < 3; ++i) {
        SCOPED_TRACE("reader " + std::to_string(i));
        EXPECT_EQ(bad[i], 0u);
        EXPECT_EQ(disorder[i], 0u);
        EXPECT_EQ(received[i] + lost[i], count);
    }
}

INSTANTIATE_TEST_SUITE_P(Capacities, ByteBroadcastThreadStream,
                         ::testing::Values(std::uint64_t{512}, std::uint64_t{1} << 16));

}  // namespace
