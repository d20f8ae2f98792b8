// SPDX-License-Identifier: MIT
// A read-only view of one rule list of a FilterSet, with first-match-wins checking.
#pragma once

#include "transfer/filter_match.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ocr::transfer {

class FilterSet;

/// @brief Which side of the transfer asks (upstream am_sender).
enum class FilterSide : std::uint8_t {
    Sender,   ///< Building the file list: hide/show rules apply.
    Receiver, ///< Deciding what may be deleted: protect/risk rules apply.
};

/// @brief The outcome of checking a name against a list (upstream check_filter()).
enum class Verdict : std::uint8_t {
    NoMatch, ///< No rule matched (0).
    Include, ///< The first matching rule is an include (1).
    Exclude, ///< The first matching rule is an exclude (-1).
};

/// @brief One list of a FilterSet: the module's daemon list or the client's list.
///
/// Valid while its FilterSet lives; checks see the set's current per-directory merge state
/// and transfer root.
class FilterList {
public:
    /// @brief Checks @p name: the first rule that applies decides (upstream check_filter).
    ///
    /// Rules marked for one side only (hide/show = sender, protect/risk = receiver, or the
    /// 's'/'r' modifiers) are skipped when @p side is the other side; the module's daemon list
    /// ignores sides, as upstream does (see FilterSet).
    /// @param name Path relative to the transfer root (see rule_applies()).
    /// @param is_dir Whether the name is a directory.
    /// @param side Who asks.
    /// @return Include, Exclude or NoMatch.
    [[nodiscard]] Verdict check(std::string_view name, bool is_dir, FilterSide side) const;

    /// @brief As check() above, for xattr names too, optionally skipping perishable rules
    ///        (upstream ignore_perishable, set while checking a directory being deleted).
    /// @param name Path relative to the transfer root, or an xattr name.
    /// @param kind File, directory or xattr.
    /// @param side Who asks.
    /// @param ignore_perishable Skip rules with the 'p' modifier.
    /// @return Include, Exclude or NoMatch.
    [[nodiscard]] Verdict check(std::string_view name, NameKind kind, FilterSide side,
                                bool ignore_perishable) const;

    /// @brief True when the list has no rules (upstream: listp->head == NULL).
    [[nodiscard]] bool empty() const;

    /// @brief The list's rules as rule text ("- /a/***", ": .rules"), for logs and tests;
    ///        per-directory rules are not expanded.
    [[nodiscard]] std::vector<std::string> describe() const;

private:
    friend class FilterSet;
    FilterList(const FilterSet& set, std::int32_t list, bool sides_matter)
        : set_(&set), list_(list), sides_matter_(sides_matter)
    {
    }

    const FilterSet* set_;
    std::int32_t list_;
    bool sides_matter_;
};

} // namespace ocr::transfer
