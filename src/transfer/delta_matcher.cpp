// SPDX-License-Identifier: MIT
// The sender's rolling-checksum search over a file, emitting upstream's token steps.
#include "transfer/delta_matcher.hpp"

#include "protocol/checksum_rolling.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace ocr::transfer {
namespace {

using protocol::BlockSums;
using protocol::RollingSum;
using protocol::SumHead;

/// Literal data goes out in pieces of this size (upstream CHUNK_SIZE).
constexpr std::int64_t kChunk = 32 * 1024;
/// Smallest window the matcher maps (upstream's map windows are 256 KiB too).
constexpr std::int64_t kMinWindow = 256 * 1024;

std::uint32_t weak_value(std::uint32_t s1, std::uint32_t s2) noexcept
{
    return (s1 & 0xFFFFu) | (s2 << 16);
}

/// Read-only view of the matcher's weak-sum table.
// Upstream match.c TRADITIONAL_TABLESIZE, its smallest hash table.
constexpr std::uint32_t kTraditionalTableSize = 1u << 16;

struct WeakTable {
    const std::uint64_t* presence;
    std::uint32_t presence_shift;
    const std::uint32_t* starts;
    std::uint32_t bucket_shift;
    const detail::WeakCandidate* candidates;
    const std::uint64_t* upstream_buckets; ///< null: hash hits are not counted
    std::uint32_t upstream_table_size;

    static std::uint32_t hash(std::uint32_t sum) noexcept { return sum * 0x9E3779B1u; }

    /// Upstream match.c: a table of 65536 buckets (up to about 52 000 blocks) indexes by
    /// the sum of the weak sum's halves (SUM2HASH), a bigger one by the sum modulo its size.
    [[nodiscard]] static std::uint32_t upstream_bucket(std::uint32_t sum, std::uint32_t table_size) noexcept
    {
        if (table_size == kTraditionalTableSize)
            return ((sum & 0xFFFFu) + (sum >> 16)) & 0xFFFFu;
        return sum % table_size;
    }

    /// 1 when upstream's bucket for @p sum holds a block (one of its hash_hits), else 0.
    [[nodiscard]] std::int64_t upstream_hit(std::uint32_t sum) const noexcept
    {
        const std::uint32_t b = upstream_bucket(sum, upstream_table_size);
        return static_cast<std::int64_t>((upstream_buckets[b >> 6] >> (b & 63)) & 1u);
    }

    /// False means no block has this weak sum; true means maybe.
    [[nodiscard]] bool maybe_present(std::uint32_t sum) const noexcept
    {
        const std::uint32_t bit = hash(sum) >> presence_shift;
        return ((presence[bit >> 6] >> (bit & 63)) & 1u) != 0;
    }

    /// The blocks whose weak sum falls in @p sum's bucket, highest index first.
    [[nodiscard]] std::span<const detail::WeakCandidate> bucket(std::uint32_t sum) const noexcept
    {
        const std::uint32_t b = hash(sum) >> bucket_shift;
        return {candidates + starts[b], candidates + starts[b + 1]};
    }
};

/// Keeps the current view of a DataWindow and maps a new one when a range is not in it.
class Mapper {
public:
    Mapper(DataWindow& window, std::int64_t file_length, std::int64_t target)
        : window_(window), file_length_(file_length), target_(target)
    {
    }

    /// @brief Makes [lo, hi) readable (0 <= lo <= hi <= file length).
    void ensure(std::int64_t lo, std::int64_t hi)
    {
        if ((lo >= start_ && hi <= end_) || lo == hi)
            return;
        const std::int64_t len = std::min(std::max(hi - lo, target_), file_length_ - lo);
        const auto view = window_.map(lo, static_cast<std::size_t>(len));
        if (static_cast<std::int64_t>(view.size()) != len)
            throw std::runtime_error("data window returned " + std::to_string(view.size()) + " bytes instead of " +
                                     std::to_string(len));
        base_ = view.data();
        start_ = lo;
        end_ = lo + len;
    }

    /// @brief The byte at @p offset, which an earlier ensure() covered.
    [[nodiscard]] const std::uint8_t* at(std::int64_t offset) const noexcept
    {
        return base_ + (offset - start_);
    }
    [[nodiscard]] std::int64_t end() const noexcept { return end_; }

private:
    DataWindow& window_;
    std::int64_t file_length_;
    std::int64_t target_;
    const std::uint8_t* base_ = nullptr;
    std::int64_t start_ = 0;
    std::int64_t end_ = 0;
};

/// One file's search: upstream match.c:hash_search and matched() as an object.
class Search {
public:
    Search(const BlockSums& sums, std::int64_t file_length, Mapper& map, protocol::BlockChecksum& strong,
           protocol::FileChecksum& file_sum, DeltaSink& sink, const MatchOptions& options, MatchStats& stats)
        : sums_(sums), head_(sums.head()), len_(file_length), map_(map), strong_(strong), file_sum_(file_sum),
          sink_(sink), options_(options), stats_(stats), s2length_(static_cast<std::size_t>(head_.s2length))
    {
    }

    void set_last_match(std::int64_t offset) noexcept { last_match_ = offset; }

    /// In place: track which blocks were found at their own offset.
    void track_same_offset() { same_offset_.assign(static_cast<std::size_t>(head_.count), 0); }

    /// Upstream: match.c:match_sums without blocks: everything is literal, in chunks.
    void send_all_literal()
    {
        for (std::int64_t j = last_match_ + kChunk; j < len_; j += kChunk)
            emit(j, kTokenLiteralOnly);
        emit(len_, kTokenEndOfFile);
    }

    /// Upstream: match.c:hash_search.
    void search(const WeakTable& table)
    {
        const std::int64_t blength = head_.blength;
        std::int64_t k = std::min(len_, blength);
        map_.ensure(0, std::min(len_, k + 1));
        RollingSum r = protocol::rolling_sums({map_.at(0), static_cast<std::size_t>(k)});
        std::uint32_t s1 = r.s1;
        std::uint32_t s2 = r.s2;

        const std::int64_t end = len_ + 1 - head_.block_length(head_.count - 1);
        std::int64_t offset = 0;
        while (true) {
            // Fast scan: roll over offsets where no block can start, for as long as nothing
            // else needs attention (window end, shrinking tail, literal flush, the end).
            std::int64_t stop = std::min({end, map_.end() - k, len_ - k});
            const std::int64_t flush_at = last_match_ + blength + kChunk;
            if (flush_at < end - kChunk)
                stop = std::min(stop, flush_at);
            if (offset < stop) {
                const std::uint8_t* p = map_.at(offset);
                const auto window = static_cast<std::uint32_t>(k);
                const std::uint8_t* const p_stop = p + (stop - offset);
                const bool count_hits = table.upstream_buckets != nullptr;
                for (; p != p_stop; ++p) {
                    const std::uint32_t sum = weak_value(s1, s2);
                    if (table.maybe_present(sum))
                        break;
                    if (count_hits)
                        stats_.hash_hits += table.upstream_hit(sum);
                    const std::uint32_t out = RollingSum::as_signed(p[0]);
                    s1 += RollingSum::as_signed(p[window]) - out;
                    s2 += s1 - window * out;
                }
                offset = stop - (p_stop - p);
                if (offset >= end)
                    break;
            }

            // One offset the slow way: upstream's loop body.
            // The bytes this iteration may touch: the literal backlog from last_match_ (or
            // one byte before it, right after a match) up to the byte that rolls in.
            const bool more = offset + k < len_;
            const std::int64_t need = offset + k + (more ? 1 : 0);
            if (need > map_.end())
                map_.ensure(std::min(last_match_, offset), need);

            const std::uint32_t sum = weak_value(s1, s2);
            if (table.upstream_buckets != nullptr)
                stats_.hash_hits += table.upstream_hit(sum);
            const auto bucket = table.bucket(sum);
            if (!bucket.empty()) {
                const std::int64_t matched_end = try_candidates(offset, k, sum, bucket);
                if (matched_end >= 0) {
                    // Resume on the last byte of the match, so that the roll below moves
                    // the window to the first byte after it.
                    offset = matched_end - 1;
                    k = std::min(blength, len_ - offset);
                    const bool more_after = offset + k < len_;
                    map_.ensure(offset, offset + k + (more_after ? 1 : 0));
                    r = protocol::rolling_sums({map_.at(offset), static_cast<std::size_t>(k)});
                    s1 = r.s1;
                    s2 = r.s2;
                }
            }

            // Roll the weak sum one byte on (upstream's null_hash label).
            const std::int64_t backup = std::max<std::int64_t>(0, offset - last_match_);
            const std::uint8_t* p = map_.at(offset);
            const std::uint32_t out = RollingSum::as_signed(p[0]);
            s1 -= out;
            s2 -= static_cast<std::uint32_t>(k) * out;
            if (offset + k < len_) {
                s1 += RollingSum::as_signed(p[k]);
                s2 += s1;
            } else {
                --k;
            }
            // Send literal data that can no longer be part of a match before it piles up.
            if (backup >= blength + kChunk && end - offset > kChunk)
                emit(offset - blength, kTokenLiteralOnly);
            if (++offset >= end)
                break;
        }

        emit(len_, kTokenEndOfFile);
    }

private:
    [[nodiscard]] bool strong_equal(std::int32_t block) const noexcept
    {
        return prefix_equal(sum2_.data(), sums_.sum2(block).data());
    }

    /// The first s2length_ bytes of two strong sums agree (with no bytes there is nothing
    /// to compare, and the stored sums may be empty).
    [[nodiscard]] bool prefix_equal(const std::uint8_t* a, const std::uint8_t* b) const noexcept
    {
        return s2length_ == 0 || std::memcmp(a, b, s2length_) == 0;
    }

    [[nodiscard]] std::int64_t block_offset(std::int32_t block) const noexcept
    {
        return static_cast<std::int64_t>(block) * head_.blength;
    }

    [[nodiscard]] bool usable_in_place(std::int32_t block, std::int64_t offset) const noexcept
    {
        return block_offset(block) >= offset || same_offset_[static_cast<std::size_t>(block)] != 0;
    }

    /// The candidates of one bucket at @p offset (upstream's inner loop of hash_search).
    /// @return the end offset of the block match it emitted, or -1 for none.
    std::int64_t try_candidates(std::int64_t offset, std::int64_t k, std::uint32_t sum,
                                std::span<const detail::WeakCandidate> bucket)
    {
        bool have_sum2 = false;
        std::int32_t same_weak = 0;
        const auto l = static_cast<std::int32_t>(k);
        for (const detail::WeakCandidate& c : bucket) {
            std::int32_t i = c.block;
            // In place, a block the receiver has already overwritten is gone for good,
            // unless it was found unchanged at its own offset.
            if (options_.updating_basis && !usable_in_place(i, offset))
                continue;
            if (c.sum1 != sum)
                continue;
            if (same_weak == 0)
                ++stats_.weak_hits;
            // Upstream 3.5.0: bound the work at one offset (CVE-2026-70453).
            if (++same_weak > options_.max_candidates)
                break;
            if (l != head_.block_length(i))
                continue;
            if (!have_sum2) {
                strong_.compute({map_.at(offset), static_cast<std::size_t>(l)}, sum2_);
                have_sum2 = true;
            }
            if (!strong_equal(i)) {
                ++stats_.false_alarms;
                continue;
            }
            const bool check_want = !options_.updating_basis || prefer_same_offset(offset, l, sum, i);
            // Prefer the block after the previous match: runs of consecutive blocks
            // encode compactly.
            if (check_want && i != want_i_ && want_i_ < head_.count &&
                (!options_.updating_basis || usable_in_place(want_i_, offset)) &&
                sum == sums_.sum1(want_i_) && l == head_.block_length(want_i_) && strong_equal(want_i_))
                i = want_i_;
            want_i_ = i + 1;
            emit(offset, i);
            ++stats_.matches;
            return offset + head_.block_length(i);
        }
        return -1;
    }

    /// In place, the best match is the block at the very same offset (the receiver need
    /// not write at all); a run of zeros may also re-align to the block grid a little
    /// further on. Updates @p offset and @p i when it finds such a block.
    /// @return false when a re-alignment was tried and failed: upstream then compares the
    ///         preferred next block against sums of the data it tried to re-align to (it
    ///         reuses its variables), which can only pick a block whose content is not the
    ///         data at @p offset; we skip that comparison, as upstream effectively does
    ///         whenever its result is correct.
    bool prefer_same_offset(std::int64_t& offset, std::int32_t l, std::uint32_t sum, std::int32_t& i)
    {
        while (aligned_offset_ < offset) {
            aligned_offset_ += head_.blength;
            ++aligned_i_;
        }
        const bool aligned = offset == aligned_offset_;
        const bool zero_run = sum == 0 && l == head_.blength && aligned_offset_ + l <= len_;
        if (!(aligned || zero_run) || aligned_i_ >= head_.count)
            return true;
        if (i != aligned_i_) {
            if (sum != sums_.sum1(aligned_i_) || l != head_.block_length(aligned_i_) || !strong_equal(aligned_i_))
                return true;
            // The block at this offset's grid position has the same content: use it even
            // if the re-alignment below fails.
            i = aligned_i_;
        }
        if (!aligned) {
            map_.ensure(std::min(last_match_, offset), aligned_offset_ + l);
            const std::span<const std::uint8_t> there{map_.at(aligned_offset_), static_cast<std::size_t>(l)};
            if (protocol::rolling_checksum(there) != sums_.sum1(i))
                return false;
            std::array<std::uint8_t, protocol::kMaxChecksumLength> there_sum2{};
            strong_.compute(there, there_sum2);
            if (!prefix_equal(there_sum2.data(), sums_.sum2(i).data()))
                return false;
            offset = aligned_offset_;
        }
        same_offset_[static_cast<std::size_t>(i)] = 1;
        want_i_ = i;
        return true;
    }

    /// Upstream: match.c:matched. Literal data from last_match_ to @p offset, then block
    /// @p block (if >= 0) at @p offset; everything emitted also goes into the file sum.
    void emit(std::int64_t offset, std::int32_t block)
    {
        const std::int64_t n = offset - last_match_;
        const std::int64_t block_len = block >= 0 ? head_.block_length(block) : 0;
        map_.ensure(last_match_, offset + block_len);
        DeltaStep s;
        s.offset = last_match_;
        if (n > 0)
            s.literal = {map_.at(last_match_), static_cast<std::size_t>(n)};
        s.block = block;
        if (block_len > 0)
            s.block_data = {map_.at(offset), static_cast<std::size_t>(block_len)};
        sink_.step(s);
        file_sum_.update(s.literal);
        file_sum_.update(s.block_data);
        stats_.literal_data += n;
        stats_.matched_data += block_len;
        last_match_ = offset + block_len;
    }

    const BlockSums& sums_;
    const SumHead& head_;
    std::int64_t len_;
    Mapper& map_;
    protocol::BlockChecksum& strong_;
    protocol::FileChecksum& file_sum_;
    DeltaSink& sink_;
    const MatchOptions& options_;
    MatchStats& stats_;
    std::size_t s2length_;

    std::int64_t last_match_ = 0;
    std::int32_t want_i_ = 0;
    std::int64_t aligned_offset_ = 0;
    std::int32_t aligned_i_ = 0;
    // Zero-initialised and never compared beyond s2length_ <= the digest length.
    std::array<std::uint8_t, protocol::kMaxChecksumLength> sum2_{};
    // In place: blocks found at their own offset, which stay usable behind the receiver.
    std::vector<std::uint8_t> same_offset_;
};

} // namespace

std::span<const std::uint8_t> MemoryDataWindow::map(std::int64_t offset, std::size_t len)
{
    if (offset < 0 || static_cast<std::uint64_t>(offset) > data_.size() || len > data_.size() - static_cast<std::size_t>(offset))
        throw std::out_of_range("MemoryDataWindow::map outside the data");
    return data_.subspan(static_cast<std::size_t>(offset), len);
}

void DeltaMatcher::build_table(const BlockSums& sums)
{
    // Two levels, both indexed by the top bits of a multiplicative hash of the weak sum:
    // a presence bitmap with about 16 bits per block (small enough to stay in cache, so
    // that the many offsets where no block starts cost one bit test), then a
    // power-of-two bucket table with at least one bucket per block.
    const auto count = static_cast<std::uint32_t>(sums.count());
    std::uint32_t bucket_bits = 10;
    while (bucket_bits < 30 && (std::uint64_t{1} << bucket_bits) < count)
        ++bucket_bits;
    std::uint32_t presence_bits = 15;
    while (presence_bits < 27 && (std::uint64_t{1} << presence_bits) < std::uint64_t{16} * count)
        ++presence_bits;
    presence_bits = std::max(presence_bits, bucket_bits);
    bucket_shift_ = 32 - bucket_bits;
    presence_shift_ = 32 - presence_bits;

    const std::size_t buckets = std::size_t{1} << bucket_bits;
    bucket_start_.assign(buckets + 1, 0);
    presence_.assign((std::size_t{1} << presence_bits) / 64, 0);
    const std::span<const std::uint32_t> sum1 = sums.all_sum1();
    for (std::uint32_t s : sum1) {
        const std::uint32_t h = WeakTable::hash(s);
        ++bucket_start_[(h >> bucket_shift_) + 1];
        const std::uint32_t bit = h >> presence_shift_;
        presence_[bit >> 6] |= std::uint64_t{1} << (bit & 63);
    }
    for (std::size_t b = 0; b < buckets; ++b)
        bucket_start_[b + 1] += bucket_start_[b];
    fill_.assign(bucket_start_.begin(), bucket_start_.end() - 1);
    candidates_.resize(count);
    // Highest index first within a bucket: upstream's chains are built by pushing each
    // block onto the front of its bucket's list.
    for (std::uint32_t i = count; i-- > 0;) {
        const std::uint32_t b = WeakTable::hash(sum1[i]) >> bucket_shift_;
        candidates_[fill_[b]++] = {sum1[i], static_cast<std::int32_t>(i)};
    }
}

void DeltaMatcher::build_upstream_buckets(const BlockSums& sums)
{
    // Upstream match.c:build_hash_table sizes its table from the block count.
    const auto count = static_cast<std::uint64_t>(sums.count());
    upstream_table_size_ = static_cast<std::uint32_t>(
        std::clamp<std::uint64_t>(count / 8 * 10 + 11, kTraditionalTableSize, std::uint64_t{1} << 31));
    upstream_buckets_.assign((std::size_t{upstream_table_size_} + 63) / 64, 0);
    for (std::uint32_t s : sums.all_sum1()) {
        const std::uint32_t b = WeakTable::upstream_bucket(s, upstream_table_size_);
        upstream_buckets_[b >> 6] |= std::uint64_t{1} << (b & 63);
    }
}

MatchResult DeltaMatcher::match(const BlockSums& sums, std::int64_t file_length, DataWindow& window,
                                protocol::BlockChecksum& strong, protocol::FileChecksum file_sum, DeltaSink& sink,
                                const MatchOptions& options)
{
    const SumHead& head = sums.head();
    if (file_length < 0)
        throw std::invalid_argument("negative file length");
    if (static_cast<std::size_t>(head.s2length) > strong.length())
        throw std::invalid_argument("s2length exceeds the strong checksum's length");

    MatchResult result;
    const std::int64_t target = std::max<std::int64_t>(kMinWindow, 3 * std::int64_t{head.blength} + 3 * kChunk);
    Mapper map(window, file_length, target);
    Search search(sums, file_length, map, strong, file_sum, sink, options, result.stats);

    bool whole_file = head.count == 0 || file_length == 0;
    if (options.append_length >= 0) {
        // Upstream: match.c:match_sums. The receiver keeps what it has (never more than we
        // have), with --append-verify that prefix counts towards the whole-file sum.
        const std::int64_t kept = std::min(options.append_length, file_length);
        if (options.append_verify) {
            for (std::int64_t j = 0; j < kept; j += kChunk) {
                const std::int64_t n = std::min(kChunk, kept - j);
                map.ensure(j, j + n);
                file_sum.update({map.at(j), static_cast<std::size_t>(n)});
            }
        }
        search.set_last_match(kept);
        whole_file = true;
    }

    if (whole_file) {
        search.send_all_literal();
    } else {
        build_table(sums);
        if (options.count_hash_hits)
            build_upstream_buckets(sums);
        if (options.updating_basis)
            search.track_same_offset();
        search.search(WeakTable{presence_.data(), presence_shift_, bucket_start_.data(), bucket_shift_,
                                candidates_.data(), options.count_hash_hits ? upstream_buckets_.data() : nullptr,
                                upstream_table_size_});
    }

    result.file_sum_length = file_sum.finish(result.file_sum);
    if (window.read_failed())
        protocol::spoil_file_checksum({result.file_sum.data(), result.file_sum_length});
    return result;
}

} // namespace ocr::transfer
