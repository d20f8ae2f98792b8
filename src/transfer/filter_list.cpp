// SPDX-License-Identifier: MIT
// A read-only view of one rule list of a FilterSet, with first-match-wins checking.
#include "transfer/filter_list.hpp"

#include "transfer/filter_set.hpp"

namespace ocr::transfer {

Verdict FilterList::check(std::string_view name, bool is_dir, FilterSide side) const
{
    return check(name, is_dir ? NameKind::Dir : NameKind::File, side, false);
}

Verdict FilterList::check(std::string_view name, NameKind kind, FilterSide side,
                          bool ignore_perishable) const
{
    const std::optional<FilterSide> effective =
        sides_matter_ ? std::optional<FilterSide>(side) : std::nullopt;
    return set_->check_list(list_, name, kind, effective, ignore_perishable);
}

bool FilterList::empty() const
{
    return set_->chain_of(list_).head < 0;
}

std::vector<std::string> FilterList::describe() const
{
    return set_->describe_list(list_);
}

} // namespace ocr::transfer
