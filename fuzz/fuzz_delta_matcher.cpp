// SPDX-License-Identifier: MIT
// Fuzz target: the delta search over arbitrary data, against block sums computed from an
// arbitrary basis (the steps must rebuild the data exactly from that basis) or taken raw
// from the input (every block match must agree with the sums it claims).
#include "protocol/checksum.hpp"
#include "protocol/checksum_rolling.hpp"
#include "protocol/sum_head.hpp"
#include "transfer/delta_matcher.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

namespace {

using namespace ocr;
using Bytes = std::vector<std::uint8_t>;

void check(bool ok)
{
    if (!ok)
        std::abort();
}

class Replay final : public transfer::DeltaSink {
public:
    Replay(const protocol::BlockSums& sums, const Bytes* basis, protocol::BlockChecksum& strong, bool in_place)
        : sums_(sums), basis_(basis), strong_(strong), in_place_(in_place)
    {
    }

    void step(const transfer::DeltaStep& s) override
    {
        check(!ended_);
        check(s.offset == static_cast<std::int64_t>(out.size()));
        out.insert(out.end(), s.literal.begin(), s.literal.end());
        if (s.block == transfer::kTokenEndOfFile) {
            ended_ = true;
            check(s.block_data.empty());
            return;
        }
        if (s.block == transfer::kTokenLiteralOnly) {
            check(s.block_data.empty());
            return;
        }
        const protocol::SumHead& head = sums_.head();
        check(s.block >= 0 && s.block < head.count);
        check(static_cast<std::int64_t>(s.block_data.size()) == head.block_length(s.block));
        const std::int64_t block_offset = static_cast<std::int64_t>(s.block) * head.blength;
        if (in_place_) {
            // Only from where the receiver has not written yet, or a block it left alone
            // because it was found at its own offset.
            const auto here = static_cast<std::int64_t>(out.size());
            if (block_offset == here)
                kept_.push_back(s.block);
            check(block_offset >= here || std::find(kept_.begin(), kept_.end(), s.block) != kept_.end());
        }
        if (basis_ != nullptr) {
            // Full-length strong sums: a match is the basis block.
            const auto from = static_cast<std::size_t>(block_offset);
            check(std::equal(s.block_data.begin(), s.block_data.end(), basis_->begin() + static_cast<std::ptrdiff_t>(from)));
        } else {
            // Raw sums: the matched bytes carry the block's weak sum and strong prefix.
            check(protocol::rolling_checksum(s.block_data) == sums_.sum1(s.block));
            std::array<std::uint8_t, protocol::kMaxChecksumLength> digest{};
            strong_.compute(s.block_data, digest);
            const auto want = sums_.sum2(s.block);
            check(std::equal(want.begin(), want.end(), digest.begin()));
        }
        out.insert(out.end(), s.block_data.begin(), s.block_data.end());
    }

    Bytes out;

private:
    const protocol::BlockSums& sums_;
    const Bytes* basis_;
    protocol::BlockChecksum& strong_;
    bool in_place_;
    bool ended_ = false;
    std::vector<std::int32_t> kept_;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 6)
        return 0;
    // Header: mode/kind, block length (2 bytes), s2length, seed byte, split point byte.
    static constexpr protocol::ChecksumKind kKinds[] = {protocol::ChecksumKind::Xxh64, protocol::ChecksumKind::Xxh3,
                                                       protocol::ChecksumKind::Xxh128, protocol::ChecksumKind::Md5,
                                                       protocol::ChecksumKind::Md4, protocol::ChecksumKind::Sha1};
    const std::uint8_t mode = data[0];
    const bool raw_sums = (mode & 1) != 0;
    const bool in_place = (mode & 2) != 0;
    const protocol::TransferChecksum sum{kKinds[(mode >> 2) % 6], (mode & 0x80) != 0 ? protocol::SeedPlacement::Append
                                                                                     : protocol::SeedPlacement::Prepend};
    const std::int32_t blength = 1 + ((data[1] | (data[2] << 8)) % 1500);
    const auto digest_len = static_cast<std::int32_t>(protocol::checksum_length(sum.kind));
    const auto seed = static_cast<std::int32_t>(data[4] * 0x01010101u);
    const std::span<const std::uint8_t> rest(data + 6, size - 6);
    const std::size_t split = rest.size() * data[5] / 256;
    const Bytes first(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(split));
    const Bytes second(rest.begin() + static_cast<std::ptrdiff_t>(split), rest.end());

    protocol::BlockChecksum strong(sum, seed);
    protocol::BlockSums sums;
    const Bytes* basis = nullptr;
    Bytes source;
    if (raw_sums) {
        // The first part is sums (weak + strong prefix per block), the second the file.
        const std::int32_t s2length = data[3] % (digest_len + 1);
        const std::size_t record = 4 + static_cast<std::size_t>(s2length);
        protocol::SumHead head;
        head.count = static_cast<std::int32_t>(std::min<std::size_t>(first.size() / record, 4000));
        head.blength = blength;
        head.s2length = s2length;
        head.remainder = head.count > 0 ? static_cast<std::int32_t>(data[3] % (blength + 1)) : 0;
        sums = protocol::BlockSums(head);
        for (std::int32_t i = 0; i < head.count; ++i) {
            const std::uint8_t* p = first.data() + static_cast<std::size_t>(i) * record;
            std::uint32_t weak = 0;
            std::memcpy(&weak, p, 4);
            sums.set(i, weak, {p + 4, static_cast<std::size_t>(s2length)});
        }
        source = second;
    } else {
        // The first part is the basis, the second the edits that make the file from it.
        protocol::SumHead head;
        head.blength = blength;
        head.s2length = digest_len == 1 ? 0 : std::min(digest_len, 16);
        head.count = static_cast<std::int32_t>((first.size() + static_cast<std::size_t>(blength) - 1) / blength);
        head.remainder = static_cast<std::int32_t>(first.size() % static_cast<std::size_t>(blength));
        if (sum.kind == protocol::ChecksumKind::None || head.count > 20000)
            return 0;
        sums = protocol::compute_block_sums(first, head, strong);
        basis = &first;
        // Each edit byte pair: copy a run of the basis from an offset, or insert bytes.
        for (std::size_t i = 0; i + 1 < second.size(); i += 2) {
            if (first.empty() || (second[i] & 1) != 0) {
                source.push_back(second[i + 1]);
                continue;
            }
            const std::size_t from = (second[i] * 131u + second[i + 1] * 7u) % first.size();
            const std::size_t len = std::min<std::size_t>(first.size() - from, 1 + second[i + 1] * 9u);
            source.insert(source.end(), first.begin() + static_cast<std::ptrdiff_t>(from),
                          first.begin() + static_cast<std::ptrdiff_t>(from + len));
        }
    }
    if (basis != nullptr && sums.head().s2length == 0)
        return 0; // weak sums alone may match the wrong block; only the file sum catches that

    transfer::MemoryDataWindow window(source);
    Replay replay(sums, basis, strong, in_place);
    transfer::MatchOptions options;
    options.updating_basis = in_place;
    options.max_candidates = 1 + data[3] * 4;
    transfer::DeltaMatcher matcher;
    const transfer::MatchResult r =
        matcher.match(sums, static_cast<std::int64_t>(source.size()), window, strong,
                      protocol::FileChecksum::for_transfer(sum.kind, seed), replay, options);
    check(replay.out == source);
    check(r.stats.literal_data + r.stats.matched_data == static_cast<std::int64_t>(source.size()));
    protocol::FileChecksum whole = protocol::FileChecksum::for_transfer(sum.kind, seed);
    whole.update(source);
    std::array<std::uint8_t, protocol::kMaxChecksumLength> want{};
    whole.finish(want);
    check(std::equal(r.file_checksum().begin(), r.file_checksum().end(), want.begin()));
    return 0;
}
