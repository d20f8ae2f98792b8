// SPDX-License-Identifier: MIT
// The sender's delta search (upstream match.c): finds the generator's blocks in the file
// being sent and hands literal data and block matches, in file order, to a token encoder.
#pragma once

#include "protocol/checksum.hpp"
#include "protocol/sum_head.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace ocr::transfer {

/// @brief Read access to the file being sent, a window at a time, so that a large file is
///        never held in memory whole (upstream's map_file/map_ptr).
class DataWindow {
public:
    virtual ~DataWindow() = default;
    /// @brief The bytes [offset, offset + len) of the file.
    ///
    /// The view stays valid until the next map() call. The matcher asks for ranges inside
    /// the file length it was given, at most max(256 KiB, 3 * blength + 96 KiB) long
    /// (upstream's windows are of the same order), mostly in increasing offset order.
    /// An implementation that fails to read should return zeros for what it could not read
    /// and report it through read_failed(), as upstream's map_ptr does.
    /// @throw whatever the implementation throws; the matcher does not catch it.
    virtual std::span<const std::uint8_t> map(std::int64_t offset, std::size_t len) = 0;
    /// @brief Whether a read failed so far; the matcher then spoils the whole-file sum so
    ///        that the receiver discards the file.
    [[nodiscard]] virtual bool read_failed() const noexcept { return false; }
};

/// @brief A DataWindow over bytes already in memory.
class MemoryDataWindow final : public DataWindow {
public:
    explicit MemoryDataWindow(std::span<const std::uint8_t> data) noexcept : data_(data) {}
    /// @throw std::out_of_range if the range is not inside the data.
    std::span<const std::uint8_t> map(std::int64_t offset, std::size_t len) override;

private:
    std::span<const std::uint8_t> data_;
};

namespace detail {
/// @brief One entry of the matcher's weak-sum table.
struct WeakCandidate {
    std::uint32_t sum1;
    std::int32_t block;
};
} // namespace detail

/// The block index of a step that carries literal data only.
inline constexpr std::int32_t kTokenLiteralOnly = -2;
/// The block index of the last step of a file.
inline constexpr std::int32_t kTokenEndOfFile = -1;

/// @brief One step of a delta, exactly one call of upstream's send_token().
///
/// Literal data first, then, when block >= 0, a copy of that basis block. A token encoder
/// that mirrors upstream's (the compressed ones flush and group block runs per call) gives
/// the same bytes as upstream when fed these steps one by one.
struct DeltaStep {
    /// File offset of the literal data.
    std::int64_t offset = 0;
    /// Source bytes to send as they are (may be empty).
    std::span<const std::uint8_t> literal;
    /// A basis block index, kTokenLiteralOnly or kTokenEndOfFile.
    std::int32_t block = kTokenLiteralOnly;
    /// The source bytes equal to the matched block (its length; empty unless block >= 0).
    /// zlib-compatible encoders feed them into their history.
    std::span<const std::uint8_t> block_data;
};

/// @brief Receives the delta of one file; both spans of a step are only valid during the
///        call.
class DeltaSink {
public:
    virtual ~DeltaSink() = default;
    /// @brief The next step, in file order; the last one has block == kTokenEndOfFile.
    virtual void step(const DeltaStep& s) = 0;
};

/// @brief Options of one file's search.
struct MatchOptions {
    /// The receiver updates the basis in place (upstream updating_basis_file: --inplace
    /// with the file itself as basis): a block may only be copied from where the receiver
    /// has not written yet, and identical blocks at the same offset are preferred.
    bool updating_basis = false;
    /// --append / --append-verify: the length of the copy the receiver keeps (its sum
    /// header's file_length()), or -1 when not appending. Only what follows is sent and no
    /// blocks are searched; pass empty BlockSums (upstream reads no block sums then).
    std::int64_t append_length = -1;
    /// --append-verify: the whole-file sum covers the kept prefix too.
    bool append_verify = false;
    /// Upstream 3.5.0 gives up on an offset after this many blocks with the same weak sum
    /// (match.c MAX_CHAIN_LEN, CVE-2026-70453); lowering it only costs literal data.
    std::int32_t max_candidates = 1024;
    /// Count MatchStats::hash_hits (one more bit test per offset searched); only the -vv
    /// report of a sending server needs them.
    bool count_hash_hits = false;
};

/// @brief The statistics upstream keeps per file (match.c, stats.literal_data and
///        stats.matched_data).
struct MatchStats {
    std::int64_t literal_data = 0; ///< bytes sent as literals
    std::int64_t matched_data = 0; ///< bytes covered by block matches
    std::int32_t matches = 0;      ///< block matches
    /// Offsets where a block had the same weak sum (upstream counts hash-bucket hits,
    /// which depend on its table; this is the table-independent part).
    std::int64_t weak_hits = 0;
    /// Same weak sum and length, different strong sum.
    std::int64_t false_alarms = 0;
    /// Offsets whose bucket in upstream's own table is not empty: what its report calls
    /// hash_hits (match.c: build_hash_table's buckets, counted in hash_search). Counted
    /// only with MatchOptions::count_hash_hits. Upstream also drops the blocks an in-place
    /// update has passed from its buckets; that is not followed here.
    std::int64_t hash_hits = 0;
};

/// @brief What a search produced besides the steps.
struct MatchResult {
    MatchStats stats;
    /// The whole-file sum to send after the tokens (checksum_length() bytes are used).
    std::array<std::uint8_t, protocol::kMaxChecksumLength> file_sum{};
    std::size_t file_sum_length = 0;

    [[nodiscard]] std::span<const std::uint8_t> file_checksum() const noexcept
    {
        return {file_sum.data(), file_sum_length};
    }
};

/// @brief The delta search of a sender, one file at a time (upstream match.c:match_sums,
///        hash_search, matched, build_hash_table), re-designed for speed:
///
/// - the weak sums sit in a presence bitmap (about 16 bits per block, so it stays in
///   cache) in front of a compact bucket table, both sized for the block count: no
///   per-file 64 Ki-entry table to clear and no linked chains to walk;
/// - the rolling loop reads the mapped window directly, with no call per byte, and only
///   leaves its tight inner loop where the bitmap says a block may start;
/// - strong sums are only computed when a block with the same weak sum and length exists,
///   at most once per offset, and compared over s2length bytes, which never exceeds the
///   digest length (CVE-2024-12085).
///
/// The steps it emits are the ones upstream's sender emits: same block choices (candidates
/// of equal weak sum are tried from the highest block index down, the block following the
/// previous match is preferred), same literal runs and flush points.
/// Reusable: a matcher keeps its buffers between files.
class DeltaMatcher {
public:
    DeltaMatcher() = default;

    /// @brief Searches one file and emits its delta.
    /// @param sums the generator's block sums (from protocol::get_block_sums()).
    /// @param file_length the length of the file being sent.
    /// @param window access to that file.
    /// @param strong the session's block checksum (transfer kind and seed); its length
    ///        must be at least sums.head().s2length.
    /// @param file_sum the whole-file sum (FileChecksum::for_transfer(kind, seed)), fed as
    ///        the search goes and finished at the end.
    /// @param sink receives the steps.
    /// @throw std::invalid_argument if s2length exceeds the strong checksum's length or
    ///        file_length is negative; whatever window, sink or the checksums throw.
    MatchResult match(const protocol::BlockSums& sums, std::int64_t file_length, DataWindow& window,
                      protocol::BlockChecksum& strong, protocol::FileChecksum file_sum, DeltaSink& sink,
                      const MatchOptions& options = {});

private:
    void build_table(const protocol::BlockSums& sums);
    void build_upstream_buckets(const protocol::BlockSums& sums);

    // Weak-sum table: a presence bitmap, then bucket b holding
    // candidates_[bucket_start_[b] .. bucket_start_[b+1]), highest block index first.
    std::vector<std::uint64_t> presence_;
    std::vector<std::uint32_t> bucket_start_;
    std::vector<detail::WeakCandidate> candidates_;
    std::vector<std::uint32_t> fill_;
    std::uint32_t presence_shift_ = 32;
    std::uint32_t bucket_shift_ = 32;
    // Which buckets of upstream's hash table hold a block (for MatchStats::hash_hits).
    std::vector<std::uint64_t> upstream_buckets_;
    std::uint32_t upstream_table_size_ = 0;
};

} // namespace ocr::transfer
