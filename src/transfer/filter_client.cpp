// SPDX-License-Identifier: MIT
// The client's filter rules that arrive as server options (-M--filter, -F, --exclude-from ...).
#include "transfer/filter_client.hpp"

#include <algorithm>

namespace ocr::transfer {

void add_option_rule(FilterSet& set, OptionRuleKind kind, std::string_view value,
                     std::size_t module_dirlen)
{
    using namespace rule_flag;
    // Upstream: options.c:parse_arguments, cases OPT_FILTER, OPT_EXCLUDE, OPT_INCLUDE,
    // OPT_EXCLUDE_FROM and OPT_INCLUDE_FROM.
    switch (kind) {
    case OptionRuleKind::Filter:
        set.add_client_rules(value, 0, 0);
        return;
    case OptionRuleKind::Exclude:
        set.add_client_rules(value, 0, xflag::OldPrefixes);
        return;
    case OptionRuleKind::Include:
        set.add_client_rules(value, Include, xflag::OldPrefixes);
        return;
    case OptionRuleKind::ExcludeFrom:
    case OptionRuleKind::IncludeFrom: {
        std::string_view path = value;
        if (!path.empty() && path.front() == '/' && module_dirlen > 0) {
            path.remove_prefix(std::min(module_dirlen, path.size()));
            if (path.empty() || path.front() != '/')
                return; // not inside the module: nothing the engine may read
        }
        const RuleFlags tmpl = kind == OptionRuleKind::IncludeFrom ? RuleFlags{Include} : 0;
        set.add_client_rule_file(path, tmpl, xflag::FatalErrors | xflag::OldPrefixes);
        return;
    }
    }
}

} // namespace ocr::transfer
