// SPDX-License-Identifier: MIT
// Tests of the sender's delta search: upstream's token streams, reconstruction and statistics.
#include "transfer/delta_matcher.hpp"

#include "protocol/checksum_rolling.hpp"
#include "protocol/digest.hpp"
#include "transfer/delta_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <tuple>
#include <string>
#include <vector>

namespace ocr::transfer {
namespace {

using protocol::BlockChecksum;
using protocol::BlockSums;
using protocol::ChecksumKind;
using protocol::FileChecksum;
using protocol::SeedPlacement;
using protocol::SumHead;
using delta_fixture::Bytes;
using delta_fixture::cat;
using delta_fixture::prng;
using delta_fixture::repeat;
using delta_fixture::slice;

/// The basis/source pairs of tests/data/checksum/captured_tokens.txt.
std::pair<Bytes, Bytes> scenario(const std::string& name)
{
    if (name == "edits") {
        const Bytes basis = prng(1, 400000);
        return {basis, cat({slice(basis, 0, 100000), prng(2, 50000), slice(basis, 100000, 250000),
                            slice(basis, 300000, 400000), prng(3, 777)})};
    }
    if (name == "repeats") {
        const Bytes blk = prng(4, 700);
        return {cat({repeat(blk, 30), prng(5, 5000), repeat(blk, 10)}),
                cat({prng(6, 100), repeat(blk, 25), prng(7, 3000), repeat(blk, 12), slice(blk, 0, 350)})};
    }
    const Bytes zero_basis = cat({prng(8, 50000), Bytes(70000, 0), prng(9, 60000)});
    if (name == "zeros")
        return {zero_basis, cat({prng(8, 50000), prng(10, 1000), Bytes(70000, 0), prng(9, 60000)})};
    return {zero_basis, cat({prng(8, 50000), Bytes(750, 0), prng(11, 3000), Bytes(2100, 0), prng(12, 333),
                             Bytes(1400, 0), prng(9, 60000)})};
}

struct RecordedStep {
    std::int64_t offset;
    Bytes literal;
    std::int32_t block;
    Bytes block_data;
};

class RecordingSink final : public DeltaSink {
public:
    void step(const DeltaStep& s) override
    {
        steps.push_back({s.offset, Bytes(s.literal.begin(), s.literal.end()), s.block,
                         Bytes(s.block_data.begin(), s.block_data.end())});
    }
    std::vector<RecordedStep> steps;
};

/// The receiver's side: literals as they are, blocks copied from the basis.
Bytes reconstruct(const Bytes& basis, const SumHead& head, const std::vector<RecordedStep>& steps)
{
    Bytes out;
    for (const RecordedStep& s : steps) {
        EXPECT_EQ(s.offset, static_cast<std::int64_t>(out.size()));
        out.insert(out.end(), s.literal.begin(), s.literal.end());
        if (s.block >= 0) {
            const auto from = static_cast<std::size_t>(s.block) * static_cast<std::size_t>(head.blength);
            const Bytes block = slice(basis, from, from + static_cast<std::size_t>(head.block_length(s.block)));
            EXPECT_EQ(block, s.block_data) << "block " << s.block;
            out.insert(out.end(), block.begin(), block.end());
        }
    }
    return out;
}

/// The uncompressed token stream upstream's simple_send_token writes for these steps, in
/// the compact form of captured_tokens.txt.
std::string tokens(const std::vector<RecordedStep>& steps)
{
    std::vector<std::string> out;
    std::int32_t run_end = -10;
    for (const RecordedStep& s : steps) {
        for (std::size_t n = 0; n < s.literal.size(); n += 32768) {
            out.push_back("L" + std::to_string(std::min<std::size_t>(32768, s.literal.size() - n)));
            run_end = -10;
        }
        if (s.block >= 0) {
            if (!out.empty() && out.back()[0] == 'B' && s.block == run_end + 1) {
                const std::string start = out.back().substr(1, out.back().find('-') - 1);
                out.back() = "B" + start + "-" + std::to_string(s.block);
            } else {
                out.push_back("B" + std::to_string(s.block));
            }
            run_end = s.block;
        } else if (s.block == kTokenEndOfFile) {
            out.push_back("E");
        }
    }
    std::string joined;
    for (const std::string& t : out)
        joined += (joined.empty() ? "" : " ") + t;
    return joined;
}

struct MatchRun {
    std::vector<RecordedStep> steps;
    MatchResult result;
};

MatchRun run_matcher(const Bytes& basis, const Bytes& source, SumHead head, protocol::TransferChecksum sum, std::int32_t seed,
                const MatchOptions& options = {}, DeltaMatcher* reuse = nullptr)
{
    BlockChecksum strong(sum, seed);
    const BlockSums sums = compute_block_sums(basis, head, strong);
    MemoryDataWindow window(source);
    RecordingSink sink;
    DeltaMatcher local;
    DeltaMatcher& m = reuse != nullptr ? *reuse : local;
    MatchRun r;
    r.result = m.match(sums, static_cast<std::int64_t>(source.size()), window, strong,
                       FileChecksum::for_transfer(sum.kind, seed), sink, options);
    r.steps = std::move(sink.steps);
    return r;
}

Bytes md5(const Bytes& data)
{
    return protocol::compute_digest(protocol::DigestAlgorithm::Md5, data);
}

// Verifies that for the captured scenarios our matcher emits exactly the token stream
// upstream 3.5.0's sender sent (same literal runs, flush points, block choices, preferred
// next blocks and in-place decisions), and that it reconstructs the file.
TEST(DeltaMatcher, SameTokensAsUpstream)
{
    std::ifstream in(std::string(OCR_TEST_DATA_DIR) + "/checksum/captured_tokens.txt");
    std::string header;
    int cases = 0;
    while (std::getline(in, header)) {
        if (header.rfind("tokens ", 0) != 0)
            continue;
        std::string expected;
        ASSERT_TRUE(std::getline(in, expected));
        expected = expected.substr(2);
        std::istringstream words(header);
        std::string word, name;
        words >> word >> name;
        SCOPED_TRACE(header);
        const auto [basis, source] = scenario(name);
        MatchOptions options;
        options.updating_basis = header.find("--inplace") != std::string::npos;
        const auto head = protocol::sum_sizes_sqroot({static_cast<std::int64_t>(basis.size()), 0, 32, 16});
        ASSERT_TRUE(head);
        ASSERT_NE(header.find("s2length=" + std::to_string(head->s2length)), std::string::npos);
        const MatchRun r = run_matcher(basis, source, *head, {ChecksumKind::Md5, SeedPlacement::Prepend}, 12345, options);
        EXPECT_EQ(tokens(r.steps), expected);
        EXPECT_EQ(reconstruct(basis, *head, r.steps), source);
        EXPECT_EQ(Bytes(r.result.file_checksum().begin(), r.result.file_checksum().end()), md5(source));
        EXPECT_EQ(r.result.stats.literal_data + r.result.stats.matched_data, static_cast<std::int64_t>(source.size()));
        ++cases;
    }
    EXPECT_EQ(cases, 8);
}

// Verifies reconstruction, the whole-file sum and the statistics over many random edits,
// block lengths, strong-sum lengths and checksum kinds.
TEST(DeltaMatcher, RandomEditsReconstruct)
{
    std::mt19937 rng(42);
    DeltaMatcher reused;
    const protocol::TransferChecksum kinds[] = {{ChecksumKind::Md5, SeedPlacement::Prepend},
                                                {ChecksumKind::Md4, SeedPlacement::Append},
                                                {ChecksumKind::Sha1, SeedPlacement::Prepend},
                                                {ChecksumKind::Xxh64, SeedPlacement::Prepend},
                                                {ChecksumKind::Xxh3, SeedPlacement::Prepend},
                                                {ChecksumKind::Xxh128, SeedPlacement::Prepend}};
    for (int iter = 0; iter < 60; ++iter) {
        const Bytes basis = prng(static_cast<std::uint32_t>(rng()), rng() % 60000);
        Bytes source;
        std::size_t pos = 0;
        while (pos < basis.size()) {
            const std::size_t take = std::min<std::size_t>(basis.size() - pos, rng() % 9000);
            source.insert(source.end(), basis.begin() + static_cast<std::ptrdiff_t>(pos),
                          basis.begin() + static_cast<std::ptrdiff_t>(pos + take));
            pos += take + (rng() % 3 == 0 ? rng() % 500 : 0);
            if (rng() % 2 == 0) {
                const Bytes noise = prng(static_cast<std::uint32_t>(rng()), rng() % 700);
                source.insert(source.end(), noise.begin(), noise.end());
            }
        }
        const auto sum = kinds[iter % 6];
        const auto digest_len = static_cast<int>(protocol::checksum_length(sum.kind));
        SumHead head;
        head.blength = static_cast<std::int32_t>(1 + rng() % 2000);
        head.s2length = static_cast<std::int32_t>(rng() % (digest_len + 1));
        head.count = static_cast<std::int32_t>((basis.size() + head.blength - 1) / head.blength);
        head.remainder = static_cast<std::int32_t>(basis.size() % head.blength);
        MatchOptions options;
        options.updating_basis = iter % 4 == 3;
        const MatchRun r = run_matcher(basis, source, head, sum, static_cast<std::int32_t>(rng()), options, &reused);
        SCOPED_TRACE(iter);
        ASSERT_EQ(reconstruct(basis, head, r.steps), source);
        ASSERT_EQ(r.steps.back().block, kTokenEndOfFile);
        EXPECT_EQ(r.result.stats.literal_data + r.result.stats.matched_data, static_cast<std::int64_t>(source.size()));
        FileChecksum want = FileChecksum::for_transfer(sum.kind, 0);
        want.update(source);
        Bytes want_sum(want.length());
        want.finish(want_sum);
        EXPECT_EQ(Bytes(r.result.file_checksum().begin(), r.result.file_checksum().end()), want_sum);
        if (options.updating_basis) {
            // In place, a block is only copied from where the receiver has not written yet,
            // or is one it left alone because it was found at its own offset.
            std::int64_t written = 0;
            std::vector<std::int32_t> kept;
            for (const RecordedStep& s : r.steps) {
                written += static_cast<std::int64_t>(s.literal.size());
                if (s.block >= 0) {
                    const std::int64_t from = static_cast<std::int64_t>(s.block) * head.blength;
                    if (from == written)
                        kept.push_back(s.block);
                    EXPECT_TRUE(from >= written || std::find(kept.begin(), kept.end(), s.block) != kept.end());
                    written += static_cast<std::int64_t>(s.block_data.size());
                }
            }
        }
    }
}

// Verifies the whole-file path (no blocks): 32 KiB literal steps, then the rest with the
// end token, and an MD5 of the whole file.
TEST(DeltaMatcher, WholeFile)
{
    const Bytes source = prng(77, 100000);
    const MatchRun r = run_matcher({}, source, SumHead{}, {ChecksumKind::Md5, SeedPlacement::Prepend}, 1);
    ASSERT_EQ(r.steps.size(), 4u);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(r.steps[i].offset, i * 32768);
        EXPECT_EQ(r.steps[i].literal.size(), 32768u);
        EXPECT_EQ(r.steps[i].block, kTokenLiteralOnly);
    }
    EXPECT_EQ(r.steps[3].literal.size(), 100000u - 3 * 32768);
    EXPECT_EQ(r.steps[3].block, kTokenEndOfFile);
    EXPECT_EQ(r.result.stats.literal_data, 100000);
    EXPECT_EQ(Bytes(r.result.file_checksum().begin(), r.result.file_checksum().end()), md5(source));

    // An empty file is just the end token, with or without blocks.
    const Bytes basis = prng(3, 5000);
    const MatchRun empty = run_matcher(basis, {}, SumHead{8, 700, 2, 100}, {ChecksumKind::Xxh64, SeedPlacement::Prepend}, 1);
    ASSERT_EQ(empty.steps.size(), 1u);
    EXPECT_TRUE(empty.steps[0].literal.empty());
    EXPECT_EQ(empty.steps[0].block, kTokenEndOfFile);
    EXPECT_EQ(empty.result.file_sum_length, 8u);
}

// Verifies --append (send what follows the receiver's copy, sum only that) and
// --append-verify (the sum covers the whole file), and that a claimed copy longer than
// the file is clamped.
TEST(DeltaMatcher, Append)
{
    const Bytes source = prng(5, 50000);
    const Bytes basis;
    const SumHead head{};
    MatchOptions append;
    append.append_length = 20000;
    const MatchRun r = run_matcher(basis, source, head, {ChecksumKind::Md5, SeedPlacement::Prepend}, 1, append);
    EXPECT_EQ(r.steps.front().offset, 20000);
    Bytes sent;
    for (const auto& s : r.steps) {
        EXPECT_LT(s.block, 0);
        sent.insert(sent.end(), s.literal.begin(), s.literal.end());
    }
    EXPECT_EQ(sent, slice(source, 20000, 50000));
    EXPECT_EQ(Bytes(r.result.file_checksum().begin(), r.result.file_checksum().end()), md5(slice(source, 20000, 50000)));
    append.append_verify = true;
    const MatchRun v = run_matcher(basis, source, head, {ChecksumKind::Md5, SeedPlacement::Prepend}, 1, append);
    EXPECT_EQ(Bytes(v.result.file_checksum().begin(), v.result.file_checksum().end()), md5(source));

    const Bytes small = slice(source, 0, 1000);
    append.append_length = SumHead{29, 700, 2, 20000 % 700}.file_length();
    EXPECT_EQ(append.append_length, 20000);
    const MatchRun c = run_matcher(basis, small, head, {ChecksumKind::Md5, SeedPlacement::Prepend}, 1, append);
    ASSERT_EQ(c.steps.size(), 1u);
    EXPECT_TRUE(c.steps[0].literal.empty());
    EXPECT_EQ(Bytes(c.result.file_checksum().begin(), c.result.file_checksum().end()), md5(small));
}

/// A window over memory that records what was asked and can pretend a read failed.
class CheckingWindow final : public DataWindow {
public:
    CheckingWindow(const Bytes& data, bool fail) : data_(data), fail_(fail) {}
    std::span<const std::uint8_t> map(std::int64_t offset, std::size_t len) override
    {
        EXPECT_GE(offset, 0);
        EXPECT_LE(offset + static_cast<std::int64_t>(len), static_cast<std::int64_t>(data_.size()));
        largest = std::max(largest, len);
        ++calls;
        return {data_.data() + offset, len};
    }
    [[nodiscard]] bool read_failed() const noexcept override { return fail_; }
    std::size_t largest = 0;
    int calls = 0;

private:
    const Bytes& data_;
    bool fail_;
};

class NullSink final : public DeltaSink {
public:
    void step(const DeltaStep& s) override
    {
        bytes += static_cast<std::int64_t>(s.literal.size() + s.block_data.size());
    }
    std::int64_t bytes = 0;
};

// Verifies that a large file is read through bounded windows, in a few hundred maps, and
// that every byte reaches the sink.
TEST(DeltaMatcher, BoundedWindows)
{
    const Bytes basis = prng(11, 3 << 20);
    Bytes source = basis;
    for (std::size_t i = 1000; i < source.size(); i += 400000)
        source[i] ^= 0x55;
    for (std::int32_t blength : {700, 131072}) {
        const SumHead head{static_cast<std::int32_t>((basis.size() + blength - 1) / blength), blength, 4,
                           static_cast<std::int32_t>(basis.size() % blength)};
        BlockChecksum strong({ChecksumKind::Xxh128, SeedPlacement::Prepend}, 9);
        const BlockSums sums = compute_block_sums(basis, head, strong);
        CheckingWindow window(source, false);
        NullSink sink;
        DeltaMatcher m;
        const MatchResult r = m.match(sums, static_cast<std::int64_t>(source.size()), window, strong,
                                      FileChecksum::for_transfer(ChecksumKind::Xxh128, 9), sink);
        EXPECT_EQ(sink.bytes, static_cast<std::int64_t>(source.size()));
        EXPECT_LE(window.largest, std::max<std::size_t>(256 * 1024, 3 * static_cast<std::size_t>(blength) + 96 * 1024));
        EXPECT_LT(window.calls, 200) << blength;
        EXPECT_GT(r.stats.matches, 0);
    }
}

// Verifies that a read error reported by the window spoils the whole-file sum.
TEST(DeltaMatcher, ReadErrorSpoilsSum)
{
    const Bytes source = prng(12, 5000);
    CheckingWindow window(source, true);
    NullSink sink;
    DeltaMatcher m;
    BlockChecksum strong({ChecksumKind::Md5, SeedPlacement::Prepend}, 1);
    const MatchResult r = m.match(BlockSums{}, 5000, window, strong, FileChecksum::for_transfer(ChecksumKind::Md5, 1), sink);
    EXPECT_EQ(Bytes(r.file_checksum().begin(), r.file_checksum().end()), Bytes(16, 0));
}

// Verifies upstream's hash_hits (match.c hash_search): an offset counts when upstream's
// 65536-bucket table (SUM2HASH: the sum of the weak sum's halves) has a block in its bucket,
// even though no block has that very weak sum; and nothing is counted unless asked for.
TEST(DeltaMatcher, HashHitsFollowUpstreamBuckets)
{
    const Bytes source = prng(21, 700);
    const std::uint32_t weak = protocol::rolling_checksum(source);
    ASSERT_NE(weak & 0xFFFFu, 0u);
    // One less in the low half, one more in the high half: another sum, the same bucket.
    const std::uint32_t same_bucket = weak - 1u + 0x10000u;
    const std::uint32_t other_bucket = weak + 1u;
    BlockChecksum strong({ChecksumKind::Md5, SeedPlacement::Prepend}, 3);
    const std::array<std::uint8_t, 16> sum2{};
    for (const auto& [block_sum, counted, hits] : {std::tuple{same_bucket, true, 1}, std::tuple{other_bucket, true, 0},
                                                   std::tuple{same_bucket, false, 0}}) {
        BlockSums sums(SumHead{1, 700, 16, 0});
        sums.set(0, block_sum, sum2);
        MemoryDataWindow window(source);
        RecordingSink sink;
        DeltaMatcher m;
        MatchOptions options;
        options.count_hash_hits = counted;
        const MatchResult r = m.match(sums, 700, window, strong, FileChecksum::for_transfer(ChecksumKind::Md5, 3), sink,
                                      options);
        EXPECT_EQ(r.stats.hash_hits, hits) << std::hex << block_sum << " counted=" << counted;
        EXPECT_EQ(r.stats.matches, 0);
        EXPECT_EQ(r.stats.weak_hits, 0);
        EXPECT_EQ(r.stats.literal_data, 700);
    }
}

// Verifies the per-offset candidate cap (upstream 3.5.0, CVE-2026-70453): with more
// same-weak-sum blocks than the cap before the real one, the offset is given up (literal
// data); with a higher cap the block is found.
TEST(DeltaMatcher, CandidateCap)
{
    const Bytes source = prng(13, 700);
    const std::uint32_t weak = protocol::rolling_checksum(source);
    BlockChecksum strong({ChecksumKind::Md5, SeedPlacement::Prepend}, 3);
    std::array<std::uint8_t, 16> good{};
    strong.compute(source, good);
    const std::array<std::uint8_t, 16> bad{};
    // Candidates are tried from the highest index down, so the genuine block 0 comes last.
    BlockSums sums(SumHead{1500, 700, 16, 0});
    for (std::int32_t i = 0; i < 1500; ++i)
        sums.set(i, weak, i == 0 ? std::span<const std::uint8_t>(good) : std::span<const std::uint8_t>(bad));
    for (std::int32_t cap : {1024, 1500}) {
        MemoryDataWindow window(source);
        RecordingSink sink;
        DeltaMatcher m;
        MatchOptions options;
        options.max_candidates = cap;
        const MatchResult r = m.match(sums, 700, window, strong, FileChecksum::for_transfer(ChecksumKind::Md5, 3), sink,
                                      options);
        if (cap == 1024) {
            EXPECT_EQ(r.stats.matches, 0);
            EXPECT_EQ(r.stats.false_alarms, 1024);
            EXPECT_EQ(r.stats.literal_data, 700);
        } else {
            EXPECT_EQ(r.stats.matches, 1);
            EXPECT_EQ(r.stats.false_alarms, 1499);
            ASSERT_EQ(sink.steps.size(), 2u);
            EXPECT_EQ(sink.steps[0].block, 0);
        }
        EXPECT_EQ(r.stats.weak_hits, 1);
    }
}

// Verifies that with s2length 0 blocks match on the weak sum alone, and that a strong-sum
// length beyond the digest (which could compare bytes the digest never wrote,
// CVE-2024-12085) or a negative file length are refused.
TEST(DeltaMatcher, StrongSumLengthLimits)
{
    const Bytes basis = prng(14, 7000);
    const MatchRun r = run_matcher(basis, basis, SumHead{10, 700, 0, 0}, {ChecksumKind::Xxh64, SeedPlacement::Prepend}, 1);
    EXPECT_EQ(r.result.stats.matches, 10);
    EXPECT_EQ(tokens(r.steps), "B0-9 E");

    BlockChecksum strong({ChecksumKind::Xxh64, SeedPlacement::Prepend}, 1);
    const BlockSums too_long(SumHead{10, 700, 9, 0});
    MemoryDataWindow window(basis);
    NullSink sink;
    DeltaMatcher m;
    EXPECT_THROW((void)m.match(too_long, 7000, window, strong, FileChecksum::for_transfer(ChecksumKind::Xxh64, 1), sink),
                 std::invalid_argument);
    const BlockSums fine(SumHead{10, 700, 8, 0});
    EXPECT_THROW((void)m.match(fine, -1, window, strong, FileChecksum::for_transfer(ChecksumKind::Xxh64, 1), sink),
                 std::invalid_argument);
}

// Verifies that a file shorter than every block, or one whose tail is shorter than the
// last block, still reconstructs (the search's end offset can be before its start).
TEST(DeltaMatcher, ShortFiles)
{
    const Bytes basis = prng(15, 1400);
    for (std::size_t n : {1u, 5u, 699u, 700u, 701u, 1399u}) {
        const Bytes source = slice(basis, 0, n);
        const MatchRun r = run_matcher(basis, source, SumHead{2, 700, 2, 0}, {ChecksumKind::Md5, SeedPlacement::Prepend}, 1);
        EXPECT_EQ(reconstruct(basis, SumHead{2, 700, 2, 0}, r.steps), source) << n;
    }
    const Bytes odd = prng(16, 1000);
    const MatchRun r = run_matcher(odd, odd, SumHead{2, 700, 2, 300}, {ChecksumKind::Md5, SeedPlacement::Prepend}, 1);
    EXPECT_EQ(tokens(r.steps), "B0-1 E");
}

} // namespace
} // namespace ocr::transfer
