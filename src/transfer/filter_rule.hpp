// SPDX-License-Identifier: MIT
// One filter rule: its flags, its compiled pattern, and the parser of one rule token.
#pragma once

#include "common/wildmatch.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ocr::transfer {

/// Bits of a rule's flags (upstream rsync.h FILTRULE_*, same meaning, own values).
using RuleFlags = std::uint32_t;

/// @brief The rule flag bits.
namespace rule_flag {
enum : RuleFlags {
    Wild = 1u << 0,          ///< The pattern has '*', '?' or '['.
    Wild2 = 1u << 1,         ///< The pattern has "**".
    Wild2Prefix = 1u << 2,   ///< The pattern starts with "**".
    Wild3Suffix = 1u << 3,   ///< The pattern ends with "***".
    AbsPath = 1u << 4,       ///< Match against the path from the module root ('/' modifier).
    Include = 1u << 5,       ///< An include (show/risk) rather than an exclude (hide/protect).
    Directory = 1u << 6,     ///< Matches directories only (the pattern had a trailing '/').
    WordSplit = 1u << 7,     ///< Merge file: split on white space ('w').
    NoInherit = 1u << 8,     ///< Per-directory merge: rules are not inherited ('n').
    NoPrefixes = 1u << 9,    ///< Merge file: every line is a pattern ('+' or '-').
    MergeFile = 1u << 10,    ///< A merge ('.') or dir-merge (':') rule.
    PerDirMerge = 1u << 11,  ///< A dir-merge (':') rule.
    ExcludeSelf = 1u << 12,  ///< Merge: also exclude the merge file's own name ('e').
    FinishSetup = 1u << 13,  ///< Dir-merge whose parent-directory scan has not run yet.
    Negate = 1u << 14,       ///< Takes effect when the pattern does not match ('!').
    CvsIgnore = 1u << 15,    ///< "-C" (the global CVS list) or ":C" (.cvsignore files).
    SenderSide = 1u << 16,   ///< Applies on the sending side ('s', hide, show).
    ReceiverSide = 1u << 17, ///< Applies on the receiving side ('r', protect, risk).
    ClearList = 1u << 18,    ///< The list-clearing "!" token.
    Perishable = 1u << 19,   ///< Ignored in directories being deleted ('p').
    Xattr = 1u << 20,        ///< Matches xattr names only ('x').
    FromFile = 1u << 21,     ///< The text came from a file's contents (never echo it back).
};
/// Both side bits.
inline constexpr RuleFlags Sides = SenderSide | ReceiverSide;
/// What a rule inherits from the merge rule whose file it was read from.
/// Upstream: exclude.c FILTRULES_FROM_CONTAINER.
inline constexpr RuleFlags FromContainer = AbsPath | Include | Directory | Negate | Perishable;
} // namespace rule_flag

/// Parse-mode bits (upstream rsync.h XFLG_*).
using XFlags = std::uint32_t;

/// @brief The parse-mode bits.
namespace xflag {
enum : XFlags {
    FatalErrors = 1u << 0, ///< An unreadable file ends the session.
    OldPrefixes = 1u << 1, ///< Only "- ", "+ " and "!" prefixes (--exclude, protocol < 29).
    Anchored2Abs = 1u << 2, ///< A leading '/' anchors at the merge file's directory.
    AbsIfSlash = 1u << 3,  ///< Any '/' makes the rule module-anchored (daemon rules).
    Dir2Wild3 = 1u << 4,   ///< A directory exclude "x/" becomes "x/***" (daemon rules).
};
} // namespace xflag

/// Upstream MAXPATHLEN: patterns and merge-file paths must be shorter than this.
inline constexpr std::size_t kMaxPathLen = 4096;

/// @brief One rule as the matcher uses it (upstream struct filter_rule).
struct FilterRule {
    /// The pattern after add_rule()'s rewriting: no trailing '/', plus the merge file's
    /// directory in front of an anchored per-directory rule, plus "/***" for a daemon
    /// directory exclude. For a merge rule: the file name.
    std::string pattern;
    RuleFlags flags = 0;
    /// Number of '/' in the pattern (upstream u.slash_cnt).
    std::uint32_t slash_cnt = 0;
    /// The compiled pattern (without an anchoring '/') when flags has rule_flag::Wild.
    std::shared_ptr<const WildPattern> wild;
};

/// @brief One rule token cut out of a rule string by parse_rule_token().
struct RuleToken {
    RuleFlags flags = 0;
    /// The pattern or merge-file name (a view into the parsed text; may be empty).
    std::string_view pattern;
};

/// @brief What parse_rule_token() needs besides the text.
struct RuleTokenContext {
    /// Upstream delete_excluded: an unmodified include/exclude becomes sender-side.
    bool delete_excluded = false;
    /// The text is a file's contents: mark rules rule_flag::FromFile and say where the rule
    /// came from instead of echoing it in errors.
    bool in_file = false;
    /// Used in place of the rule text in error messages when @c in_file is set
    /// (upstream rule_text(): "<rule from FILE line N>").
    std::string_view redacted_text;
};

/// @brief Cuts the next rule out of @p text (upstream exclude.c:parse_rule_tok).
///
/// The text ends at its first NUL byte, as upstream's C strings do. With rule_flag::WordSplit
/// in @p template_flags, leading white space is skipped and the pattern ends at white space.
/// @param text The rule string (an option value, a wire rule, a line or word of a file).
/// @param pos Where to start; advanced past the token.
/// @param template_flags The flags of the rule the text belongs to (upstream's template).
/// @param xflags Parse mode (xflag bits).
/// @param ctx Options and provenance.
/// @return The token, or nullopt when nothing is left.
/// @throw FilterError (exit 1) with upstream's text for an unknown rule, an invalid
///        modifier, a side given both by a merge rule and by its contents, a "!" with
///        trailing characters, or a rule without a pattern.
[[nodiscard]] std::optional<RuleToken> parse_rule_token(std::string_view text, std::size_t& pos,
                                                        RuleFlags template_flags, XFlags xflags,
                                                        const RuleTokenContext& ctx);

/// @brief The short prefix that reproduces @p flags, e.g. "-/! " or ":n- " (upstream
///        get_rule_prefix() with for_xfer = 0); a rule followed by its pattern (and '/' for
///        rule_flag::Directory) parses back to the same rule.
/// @param flags The rule's flags.
/// @return The prefix including its trailing space.
[[nodiscard]] std::string rule_prefix(RuleFlags flags);

/// @brief C locale isspace(): space, \\t, \\n, \\v, \\f, \\r.
[[nodiscard]] constexpr bool is_c_space(char c) noexcept
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

} // namespace ocr::transfer
