// SPDX-License-Identifier: MIT
// Whether one filter rule applies to one name (upstream exclude.c:rule_matches).
#pragma once

#include "common/wildmatch.hpp"
#include "transfer/filter_rule.hpp"

#include <cstdint>
#include <span>
#include <string_view>

namespace ocr::transfer {

/// @brief What kind of name is being checked (upstream NAME_IS_FILE / _DIR / _XATTR).
enum class NameKind : std::uint8_t {
    File,  ///< Anything that is not a directory.
    Dir,   ///< A directory.
    Xattr, ///< An extended attribute name (only rules with the 'x' modifier see these).
};

/// @brief Does @p rule take effect for @p name (upstream rule_matches() != 0)?
///
/// A rule without '/' (other than a trailing one) and without "**" is matched against the last
/// component only; one with '/' against the trailing slash_cnt+1 components, or from the start
/// when anchored (leading '/'); a floating "**" pattern is tried after every '/'. A
/// directory-only rule never matches a non-directory, and a negated rule takes effect exactly
/// when its pattern does not match.
/// @param rule The rule (not a merge or CVS reference).
/// @param name The name relative to the transfer root; a leading '/' marks a name already
///        relative to the module root (then @p cwd is not prepended).
/// @param kind File, directory or xattr name.
/// @param cwd The transfer root relative to the module root ("" for the module root); it is
///        put in front of @p name for rules with rule_flag::AbsPath.
/// @return True when the rule's include/exclude verdict applies to the name.
[[nodiscard]] bool rule_applies(const FilterRule& rule, std::string_view name, NameKind kind,
                                std::string_view cwd);

/// @brief Upstream wildmatch_array(): matches @p pattern against the virtual concatenation of
///        @p pieces, either from the start (@p where = 0), against the last @p where
///        '/'-separated components (@p where > 0), or from the start or after any '/'
///        (@p where < 0).
/// @param pattern The compiled pattern.
/// @param pieces The text pieces (at most 8).
/// @param where Selects the matching mode as above.
/// @return True on a match.
[[nodiscard]] bool wildmatch_array(const WildPattern& pattern,
                                   std::span<const std::string_view> pieces, int where);

/// @brief Upstream litmatch_array(): like wildmatch_array() for a literal string (no
///        @p where < 0 mode).
/// @param literal The literal text that must equal the selected text.
/// @param pieces The text pieces (at most 8).
/// @param where 0 (from the start) or > 0 (the last @p where components).
/// @return True on a match.
[[nodiscard]] bool litmatch_array(std::string_view literal,
                                  std::span<const std::string_view> pieces, int where);

} // namespace ocr::transfer
