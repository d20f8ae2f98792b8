// SPDX-License-Identifier: MIT
// Which compression a session uses: names, negotiation, levels and the skip-compress lists.
#pragma once

#include <bitset>
#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/wildmatch.hpp"

namespace ocr::protocol {

/// @brief The token stream formats (upstream rsync.h CPRES_*).
enum class Compression : std::uint8_t {
    None,  ///< plain tokens: int32 lengths and block numbers
    Zlib,  ///< deflate; matched blocks also enter the compressor's history ("-z" of old clients)
    Zlibx, ///< deflate without the matched-block history ("--new-compress")
    Lz4,   ///< independent LZ4 blocks
    Zstd,  ///< one zstd stream for the whole session
};

/// Upstream CLVL_NOT_SPECIFIED: no --compress-level was given.
inline constexpr int kCompressLevelUnset = INT_MIN;
/// Longest name list a peer may send (upstream reads it into a MAX_NSTR_STRLEN buffer).
inline constexpr std::size_t kMaxCompressListLength = 255;

/// @brief The wire name of @p c ("zstd", "lz4", "zlibx", "zlib", "none").
[[nodiscard]] std::string_view compression_name(Compression c) noexcept;

/// @brief Looks a name up the way upstream compares names: whole name, ASCII case ignored.
/// @return nullopt for a name upstream does not know.
[[nodiscard]] std::optional<Compression> compression_from_name(std::string_view name) noexcept;

/// @brief How the server picks one name from the client's list.
enum class NegotiationRule {
    /// 3.5.0: our own most preferred name that the client also lists (each side picks by
    /// its own order, so a client that reorders its list desyncs; upstream accepts that).
    ServerPreference,
    /// 3.2.0 .. 3.4.x: the first name in the client's list that we know; the client picks
    /// the same one whatever its version, so the two sides always agree.
    ClientPreference,
};

/// @brief Picks the session's compression from the client's list (upstream
///        compat.c:parse_negotiate_str).
/// @param client_list The client's space-separated vstring (at most kMaxCompressListLength).
/// @param our_list Our list, most preferred first (normally kCompressNameList).
/// @param rule Whose preference order decides.
/// @return nullopt when no name is in both lists: upstream's server then exits with code 4
///         (Unsupported) without a message of its own (the client prints "Failed to
///         negotiate a compress choice.").
[[nodiscard]] std::optional<Compression> choose_compression(
    std::string_view client_list, std::string_view our_list,
    NegotiationRule rule = NegotiationRule::ServerPreference);

/// @brief The compression in force after setup (upstream compat.c:parse_compress_choice(1)):
///        the negotiated name, else --compress-choice (also set by --new-compress = zlibx and
///        --old-compress = zlib; "auto" counts as absent), else zlib when -z was given.
/// @param negotiated The result of choose_compression() when the lists were exchanged.
/// @param choice The client's explicit choice, if any.
/// @param compressing Whether the client asked for compression at all (-z, or a level).
/// @return nullopt when @p choice is not a known name (upstream: "unknown compress name: %s",
///         exit 4).
[[nodiscard]] std::optional<Compression> final_compression(std::optional<Compression> negotiated,
                                                           std::optional<std::string_view> choice,
                                                           bool compressing);

/// @brief A compression with the level its compressor runs at.
struct CompressionSetting {
    Compression compression = Compression::None;
    int level = 0; ///< meaningful for Zlib/Zlibx (1..9, or 0 = store) and Zstd

    bool operator==(const CompressionSetting&) const = default;
};

/// @brief Applies --compress-level the way upstream token.c:init_compression_level does.
///
/// zlib/zlibx: unset or -1 mean 6, 0 turns compression off (both ends then use plain
/// tokens), others are clamped to 1..9. zstd: unset or 0 mean 3 (ZSTD_CLEVEL_DEFAULT), others
/// are clamped to ZSTD_minCLevel()..ZSTD_maxCLevel(). lz4: always 0. None: unchanged.
/// @param c The chosen compression.
/// @param requested The --compress-level value, or kCompressLevelUnset.
/// @return The compression actually used (None when the level switched it off) and its level.
[[nodiscard]] CompressionSetting resolve_compression_level(Compression c, int requested) noexcept;

/// @brief The level upstream uses for files it "does not compress" (token.c
///        skip_compression_level): 0 (stored deflate blocks) for zlib/zlibx,
///        ZSTD_minCLevel() for zstd, 0 for lz4 and none.
[[nodiscard]] int skip_compression_level(Compression c) noexcept;

/// @brief The "dont compress" patterns and --skip-compress suffixes (upstream
///        token.c:init_set_compression, add_nocompress_suffixes, set_compression).
///
/// In 3.5.0 only one part of this has an effect: a "*" in "dont compress" makes the sender
/// use skip_compression_level() for every file (for zlib: stored blocks; zstd and lz4 cannot
/// change level mid-stream and ignore it). Upstream's per-file matching is compiled out
/// (`#if 0` in set_compression), so a 3.5.0 sender compresses a ".gz" file like any other;
/// matches() gives the answer that disabled code would have given, for callers that want it.
class SkipCompress {
public:
    /// @brief Builds the rules.
    /// @param dont_compress Space-separated, case-insensitive wildcard patterns (a daemon
    ///        uses its module's "dont compress"; "*.ext" entries become suffix rules).
    /// @param skip_suffixes A --skip-compress value: '/'-separated suffixes, each optionally
    ///        with "[...]" letter classes; a suffix longer than 32 bytes is cut to 32.
    explicit SkipCompress(std::string_view dont_compress, std::string_view skip_suffixes = {});

    /// @brief Whether "dont compress" contains "*": every file uses the skip level.
    [[nodiscard]] bool applies_to_all() const noexcept { return all_; }

    /// @brief Whether @p path (its last component is what counts) matches a pattern or its
    ///        last ".ext" matches a suffix rule; always true when applies_to_all().
    [[nodiscard]] bool matches(std::string_view path) const;

private:
    /// One suffix rule: the set of allowed (lower-case) bytes at each position.
    using Suffix = std::vector<std::bitset<256>>;
    void add_suffix(std::string_view lowered);

    bool all_ = false;
    std::vector<WildPattern> patterns_;
    std::vector<Suffix> suffixes_;
};

} // namespace ocr::protocol
