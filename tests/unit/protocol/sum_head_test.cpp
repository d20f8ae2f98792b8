// SPDX-License-Identifier: MIT
#include "protocol/sum_head.hpp"

#include "protocol/checksum_rolling.hpp"
#include "protocol/memory_stream.hpp"
#include "protocol/protocol_error.hpp"
#include "protocol/wire.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace ocr::protocol {
namespace {

std::string ints(std::initializer_list<std::int32_t> values)
{
    std::string out;
    for (std::int32_t v : values)
        put_i32(out, v);
    return out;
}

/// Decodes @p wire and returns the error text and code ("" / Ok when it decodes).
std::pair<std::string, ExitCode> head_error(const std::string& wire, SumHeadRules rules = {})
{
    MemorySource src(wire);
    try {
        (void)get_sum_head(src, rules);
        return {"", ExitCode::Ok};
    } catch (const ProtocolError& e) {
        return {e.what(), e.code()};
    }
}

// Verifies the wire layout: four int32s, without s2length before protocol 27.
TEST(SumHead, Encode)
{
    const SumHead h{5, 700, 2, 100};
    std::string out;
    put_sum_head(out, h, 32);
    EXPECT_EQ(out, ints({5, 700, 2, 100}));
    out.clear();
    put_sum_head(out, h, 26);
    EXPECT_EQ(out, ints({5, 700, 100}));
}

// Verifies that good headers decode, including the boundary values upstream accepts.
TEST(SumHead, DecodeValid)
{
    const std::string wire = ints({5, 700, 2, 100}) + "x";
    MemorySource src(wire);
    EXPECT_EQ(get_sum_head(src, {}), (SumHead{5, 700, 2, 100}));
    EXPECT_EQ(src.remaining(), 1u);
    EXPECT_EQ(head_error(ints({0, 0, 0, 0})).first, "");                  // no basis
    EXPECT_EQ(head_error(ints({1, 131072, 16, 131072})).first, "");        // max block, remainder == blength
    EXPECT_EQ(head_error(ints({1, 1 << 29, 16, 0}), {29, 16, "sender"}).first, ""); // old maximum
    EXPECT_EQ(head_error(ints({INT32_MAX, 700, 0, 0})).first, "");         // count is bounded later
    const std::string old_wire = ints({3, 700, 5});
    MemorySource old(old_wire);
    EXPECT_EQ(get_sum_head(old, {26, 16, "sender"}), (SumHead{3, 700, kShortSumLength, 5}));
}

// Verifies each of upstream 3.5.0's checks with its exact text, exit code 2, and the
// role name in brackets.
TEST(SumHead, DecodeRejects)
{
    using P = std::pair<std::string, ExitCode>;
    EXPECT_EQ(head_error(ints({-1, 700, 2, 0})), (P{"Invalid checksum count -1 [sender]", ExitCode::Protocol}));
    EXPECT_EQ(head_error(ints({1, -700, 2, 0})), (P{"Invalid block length -700 [sender]", ExitCode::Protocol}));
    EXPECT_EQ(head_error(ints({1, 131073, 2, 0})), (P{"Invalid block length 131073 [sender]", ExitCode::Protocol}));
    EXPECT_EQ(head_error(ints({1, (1 << 29) + 1, 2, 0}), {29, 16, "sender"}).first,
              "Invalid block length 536870913 [sender]");
    EXPECT_EQ(head_error(ints({1, 0, 2, 0})), (P{"Invalid zero block length [sender]", ExitCode::Protocol}));
    EXPECT_EQ(head_error(ints({1, 700, 17, 0})), (P{"Invalid checksum length 17 [sender]", ExitCode::Protocol}));
    EXPECT_EQ(head_error(ints({1, 700, 9, 0}), {32, 8, "sender"}).first, "Invalid checksum length 9 [sender]");
    EXPECT_EQ(head_error(ints({1, 700, -1, 0})).first, "Invalid checksum length -1 [sender]");
    EXPECT_EQ(head_error(ints({1, 700, 2, 701})), (P{"Invalid remainder length 701 [sender]", ExitCode::Protocol}));
    EXPECT_EQ(head_error(ints({1, 700, 2, -3})).first, "Invalid remainder length -3 [sender]");
    EXPECT_EQ(head_error(ints({1, 700, 2, 1})).first, "");
    EXPECT_EQ(head_error(ints({0, 700, 2, 0}), {32, 16, "receiver"}).first, "");
    EXPECT_EQ(head_error(ints({-5, 0, 0, 0}), {32, 16, "receiver"}).first, "Invalid checksum count -5 [receiver]");
}

// Verifies that a bad field is reported before the rest is read (upstream checks as it
// reads), and that a short stream is an I/O error.
TEST(SumHead, DecodeOrder)
{
    EXPECT_EQ(head_error(ints({-1})).first, "Invalid checksum count -1 [sender]");
    EXPECT_EQ(head_error(ints({1, 0})).first, "Invalid zero block length [sender]");
    EXPECT_EQ(head_error(ints({1, 700})).second, ExitCode::StreamIo);
    EXPECT_EQ(head_error(std::string("\x01\x00", 2)).second, ExitCode::StreamIo);
}

// Verifies the derived lengths of a header.
TEST(SumHead, Lengths)
{
    const SumHead h{5, 700, 2, 100};
    EXPECT_EQ(h.block_length(0), 700);
    EXPECT_EQ(h.block_length(4), 100);
    EXPECT_EQ(h.file_length(), 2900);
    EXPECT_EQ((SumHead{4, 700, 2, 0}).file_length(), 2800);
    EXPECT_EQ((SumHead{4, 700, 2, 0}).block_length(3), 700);
    EXPECT_EQ((SumHead{0, 0, 0, 0}).file_length(), 0);
    EXPECT_EQ((SumHead{INT32_MAX, 131072, 2, 0}).file_length(), std::int64_t{INT32_MAX} * 131072);
}

// Verifies that block sums round-trip through their encoder and decoder and that the
// decoder reads exactly their bytes.
TEST(BlockSums, RoundTrip)
{
    BlockSums sums(SumHead{3, 700, 3, 10});
    const std::vector<std::uint8_t> a{1, 2, 3}, b{4, 5, 6, 99}, c{7, 8, 9};
    sums.set(0, 0xDEADBEEF, a);
    sums.set(1, 1, b); // longer than s2length: truncated
    sums.set(2, 0x80000000, c);
    std::string wire;
    put_block_sums(wire, sums, 32);
    EXPECT_EQ(wire.size(), 16u + 3 * 7);
    wire += "tail";
    MemorySource src(wire);
    const SumHead head = get_sum_head(src, {});
    const BlockSums back = get_block_sums(src, head, {});
    EXPECT_EQ(src.remaining(), 4u);
    ASSERT_EQ(back.count(), 3);
    EXPECT_EQ(back.sum1(0), 0xDEADBEEFu);
    EXPECT_EQ(back.sum1(2), 0x80000000u);
    EXPECT_EQ(std::vector<std::uint8_t>(back.sum2(1).begin(), back.sum2(1).end()), (std::vector<std::uint8_t>{4, 5, 6}));
    EXPECT_THROW(sums.set(3, 0, a), std::out_of_range);
    EXPECT_THROW(sums.set(0, 0, std::vector<std::uint8_t>{1}), std::invalid_argument);
}

// Verifies that many blocks (more than one read batch) and zero-length strong sums decode.
TEST(BlockSums, LargeAndEmptyStrongSums)
{
    const SumHead head{20000, 700, 0, 0};
    std::string wire;
    for (std::int32_t i = 0; i < head.count; ++i)
        put_i32(wire, i * 7);
    MemorySource src(wire);
    const BlockSums sums = get_block_sums(src, head, {});
    EXPECT_EQ(src.remaining(), 0u);
    EXPECT_EQ(sums.sum1(19999), 19999u * 7);
    EXPECT_TRUE(sums.sum2(5).empty());
}

// Verifies upstream's --max-alloc limit on the block count (24 bytes per block in its
// accounting): refused with its text and exit code 22 before any sum is read.
TEST(BlockSums, MaxAlloc)
{
    BlockSumLimits limits;
    limits.max_alloc = 24 * 10 + 5;
    std::string wire(9 * 6, '\0');
    MemorySource ok_src(wire);
    EXPECT_EQ(get_block_sums(ok_src, SumHead{9, 700, 2, 0}, limits).count(), 9);
    MemorySource src(wire);
    try {
        (void)get_block_sums(src, SumHead{10, 700, 2, 0}, limits);
        FAIL() << "expected ProtocolError";
    } catch (const ProtocolError& e) {
        EXPECT_EQ(e.code(), ExitCode::Malloc);
        EXPECT_STREQ(e.what(), "[sender] exceeded --max-alloc=245 setting (file=sender.c, line=363)");
    }
    EXPECT_EQ(src.remaining(), wire.size());
    // The default: 44739242 blocks (1 GiB / 24) is one too many.
    MemorySource empty("");
    try {
        (void)get_block_sums(empty, SumHead{44739242, 1, 0, 0}, {});
        FAIL() << "expected ProtocolError";
    } catch (const ProtocolError& e) {
        EXPECT_STREQ(e.what(), "[sender] exceeded --max-alloc=1073741824 setting (file=sender.c, line=363)");
    }
    MemorySource short_src("");
    EXPECT_THROW((void)get_block_sums(short_src, SumHead{44739241, 1, 0, 0}, {}), ProtocolError); // ends early
}

// Verifies that headers a decoder could never produce are refused by BlockSums.
TEST(BlockSums, InvalidHeads)
{
    EXPECT_THROW(BlockSums(SumHead{-1, 700, 2, 0}), std::invalid_argument);
    EXPECT_THROW(BlockSums(SumHead{1, 0, 2, 0}), std::invalid_argument);
    EXPECT_THROW(BlockSums(SumHead{1, 700, 21, 0}), std::invalid_argument);
    EXPECT_THROW(BlockSums(SumHead{1, 700, 2, 701}), std::invalid_argument);
}

// Verifies computing the block sums of a basis held in memory against the sums a real
// 3.5.0 client sent for tests/data/checksum/basis.bin (md5, seed 12345, seed first).
TEST(BlockSums, ComputeMatchesCapture)
{
    std::ifstream in(std::string(OCR_TEST_DATA_DIR) + "/checksum/basis.bin", std::ios::binary);
    const std::vector<std::uint8_t> basis{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    ASSERT_EQ(basis.size(), 2900u);
    BlockChecksum strong({ChecksumKind::Md5, SeedPlacement::Prepend}, 12345);
    const BlockSums sums = compute_block_sums(basis, SumHead{5, 700, 2, 100}, strong);
    const std::uint32_t want_sum1[] = {0x8a10f64b, 0xe879ff18, 0x6ef0fc67, 0x443104b2, 0xa3f00250};
    const std::uint8_t want_sum2[][2] = {{0x11, 0x9d}, {0xa7, 0x8f}, {0x8b, 0x97}, {0x33, 0x3a}, {0x4d, 0x6e}};
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(sums.sum1(i), want_sum1[i]) << i;
        EXPECT_EQ(sums.sum2(i)[0], want_sum2[i][0]) << i;
        EXPECT_EQ(sums.sum2(i)[1], want_sum2[i][1]) << i;
    }
    EXPECT_THROW((void)compute_block_sums(basis, SumHead{5, 700, 2, 99}, strong), std::invalid_argument);
    BlockChecksum short_strong({ChecksumKind::Xxh64, SeedPlacement::Prepend}, 1);
    EXPECT_THROW((void)compute_block_sums(basis, SumHead{5, 700, 9, 100}, short_strong), std::invalid_argument);
}

// Verifies sum_sizes_sqroot against the headers upstream 3.5.0's generator chose for the
// file lengths, protocols and --block-size values in tests/data/checksum/sum_sizes.txt.
TEST(SumSizes, MatchUpstream)
{
    std::ifstream in(std::string(OCR_TEST_DATA_DIR) + "/checksum/sum_sizes.txt");
    std::string line;
    int checked = 0;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#')
            continue;
        std::map<std::string, std::int64_t> f;
        std::istringstream words(line);
        std::string w;
        while (words >> w) {
            const auto eq = w.find('=');
            f[w.substr(0, eq)] = std::stoll(w.substr(eq + 1));
        }
        SumSizesInputs si;
        si.file_length = f.at("len");
        si.protocol = static_cast<int>(f.at("proto"));
        si.block_size = static_cast<std::int32_t>(f.at("bsize"));
        si.xfer_sum_len = 16;
        const auto head = sum_sizes_sqroot(si);
        ASSERT_TRUE(head) << line;
        EXPECT_EQ(head->count, f.at("count")) << line;
        EXPECT_EQ(head->blength, f.at("blength")) << line;
        EXPECT_EQ(head->s2length, f.at("s2length")) << line;
        EXPECT_EQ(head->remainder, f.at("rem")) << line;
        EXPECT_EQ(head->file_length(), f.at("flength")) << line;
        ++checked;
    }
    EXPECT_GE(checked, 40);
}

// Verifies the strong-sum length of a redo pass (the full 16 bytes, capped by the digest)
// and of a short digest on a first pass.
TEST(SumSizes, RedoAndShortDigests)
{
    SumSizesInputs si;
    si.file_length = 1000000;
    si.csum_length = kFullSumLength;
    EXPECT_EQ(sum_sizes_sqroot(si)->s2length, 16);
    si.xfer_sum_len = 8;
    EXPECT_EQ(sum_sizes_sqroot(si)->s2length, 8);
    si.xfer_sum_len = 20;
    EXPECT_EQ(sum_sizes_sqroot(si)->s2length, 16);
    // 2^58 bytes in 2^29-byte blocks (protocol 29) want 9 bytes: more than xxh64 has.
    si.csum_length = kShortSumLength;
    si.protocol = 29;
    si.file_length = std::int64_t{1} << 58;
    si.xfer_sum_len = 16;
    EXPECT_EQ(sum_sizes_sqroot(si), (SumHead{1 << 29, 1 << 29, 9, 0}));
    si.xfer_sum_len = 8;
    EXPECT_EQ(sum_sizes_sqroot(si)->s2length, 8);
    si.protocol = 26;
    EXPECT_EQ(sum_sizes_sqroot(si)->s2length, kShortSumLength);
}

// Verifies the cases upstream gives up on (a negative length, a block count that does not
// fit an int32), the empty file, and the block-length cap of each protocol.
TEST(SumSizes, Limits)
{
    SumSizesInputs si;
    si.file_length = -1;
    EXPECT_FALSE(sum_sizes_sqroot(si));
    si.file_length = std::int64_t{1} << 40;
    si.block_size = 1;
    EXPECT_FALSE(sum_sizes_sqroot(si));
    si.file_length = 0;
    si.block_size = 0;
    EXPECT_EQ(sum_sizes_sqroot(si), (SumHead{0, 700, 2, 0}));
    si.file_length = std::int64_t{1} << 40;
    EXPECT_EQ(sum_sizes_sqroot(si), (SumHead{1 << 23, kMaxBlockLength, 6, 0}));
    si.protocol = 29;
    EXPECT_EQ(sum_sizes_sqroot(si), (SumHead{1 << 20, 1 << 20, 5, 0}));
    // Even the largest block leaves too many blocks for the longest files.
    si.file_length = INT64_MAX;
    EXPECT_FALSE(sum_sizes_sqroot(si));
}

} // namespace
} // namespace ocr::protocol
