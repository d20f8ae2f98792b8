// SPDX-License-Identifier: MIT
// rsync-compatible shell wildcard matching ('*', '**', '?', '[...]', '\') in bounded time.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace ocr {

/// @brief Whether letters must match in case.
enum class WildCase {
    Sensitive,   ///< Upstream wildmatch().
    Insensitive, ///< Upstream iwildmatch(): pattern and text are both folded to ASCII lower case.
};

/// @brief A wildcard pattern compiled once and matched against many texts.
///
/// Semantics are those of upstream rsync's lib/wildmatch.c: `*` matches a run of characters
/// without '/', a run of two or more stars matches across '/', `?` matches one character other
/// than '/', `[...]` is a class (`!` or `^` negates, `a-z` ranges, `\` escapes, `[:alpha:]`-style
/// ASCII classes; a class never matches '/'), `\` makes the next character literal, and a
/// malformed class makes the whole match fail. Both pattern and each text end at their first NUL
/// byte, as the C strings upstream works on do.
///
/// Matching costs O(text length x pattern length) time and O(text length) memory whatever the
/// input, with no recursion.
class WildPattern {
public:
    /// @brief Compiles @p pattern.
    /// @param pattern The wildcard pattern.
    /// @param wild_case Case handling used by every match of this pattern.
    explicit WildPattern(std::string_view pattern, WildCase wild_case = WildCase::Sensitive);

    /// @brief Matches the whole of @p text.
    /// @param text The text (a path, a host name, ...).
    /// @return True when the pattern matches all of @p text.
    [[nodiscard]] bool matches(std::string_view text) const;

    /// @brief Matches the virtual concatenation of @p pieces (no separator is added).
    /// @param pieces The pieces, in order; empty pieces are allowed.
    /// @return True when the pattern matches the joined text; false when @p pieces is empty
    ///         (upstream wildmatch_array() with no strings).
    [[nodiscard]] bool matches_pieces(std::span<const std::string_view> pieces) const;

private:
    /// @brief One compiled pattern element that consumes exactly one text byte.
    struct Token {
        enum class Kind : std::uint8_t {
            Literal, ///< `ch` (already folded when case-insensitive).
            Any,     ///< `?`: any byte but '/'.
            Class,   ///< `[...]`: `classes_[index]` says which bytes match.
            Abort,   ///< A malformed class: reaching it fails the whole match.
            Never,   ///< A trailing lone backslash: matches no byte.
        };
        Kind kind = Kind::Literal;
        unsigned char ch = 0;
        std::uint32_t index = 0;
    };

    /// @brief A run of tokens; every segment but the first is preceded by a run of stars.
    struct Segment {
        std::size_t first = 0;     ///< Index of its first token in `tokens_`.
        std::size_t count = 0;     ///< Number of tokens (one text byte each).
        bool cross_slash = false;  ///< Preceded by `**` (or longer) rather than a single `*`.
    };

    enum class Outcome : std::uint8_t;

    [[nodiscard]] bool match_text(std::string_view text) const;
    [[nodiscard]] Outcome run_segment(std::size_t seg, std::string_view text, std::size_t at,
                                      const std::vector<Outcome>& next_star) const;
    [[nodiscard]] bool token_matches(const Token& tok, unsigned char c) const;

    bool fold_ = false;
    std::vector<Token> tokens_;
    std::vector<Segment> segments_;
    /// Accept tables of `[...]` classes, indexed by the raw text byte.
    std::vector<std::bitset<256>> classes_;
};

/// @brief Upstream wildmatch()/iwildmatch(): does @p pattern match the whole of @p text?
/// @param pattern The wildcard pattern (see WildPattern).
/// @param text The text to match.
/// @param wild_case Case handling.
/// @return True on a match.
[[nodiscard]] bool wildmatch(std::string_view pattern, std::string_view text,
                             WildCase wild_case = WildCase::Sensitive);

/// @brief Match against the virtual concatenation of several pieces (upstream wildmatch_array with
///        a "/" joined path, used by the filter engine); pieces are joined with no separator.
/// @param pattern The wildcard pattern (see WildPattern).
/// @param pieces The pieces, in order.
/// @param wild_case Case handling.
/// @return True on a match; false when @p pieces is empty.
[[nodiscard]] bool wildmatch_pieces(std::string_view pattern,
                                    std::span<const std::string_view> pieces,
                                    WildCase wild_case = WildCase::Sensitive);

} // namespace ocr
