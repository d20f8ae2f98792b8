// SPDX-License-Identifier: MIT
// The module's own filter list, built from its rsyncd.conf parameters.
#include "transfer/filter_daemon.hpp"

namespace ocr::transfer {

void load_module_filters(FilterSet& set, const ModuleFilterConfig& config)
{
    using namespace rule_flag;
    // Upstream: clientserver.c:rsync_module, the block that fills daemon_filter_list.
    constexpr XFlags kDaemon = xflag::AbsIfSlash | xflag::Dir2Wild3;
    const std::string_view root = config.module_path;
    set.add_daemon_rules(config.filter, WordSplit, kDaemon, root);
    set.add_daemon_rule_file(config.include_from, Include,
                             kDaemon | xflag::OldPrefixes | xflag::FatalErrors, root);
    set.add_daemon_rules(config.include, Include | WordSplit, kDaemon | xflag::OldPrefixes,
                         root);
    set.add_daemon_rule_file(config.exclude_from, 0,
                             kDaemon | xflag::OldPrefixes | xflag::FatalErrors, root);
    set.add_daemon_rules(config.exclude, WordSplit, kDaemon | xflag::OldPrefixes, root);
}

} // namespace ocr::transfer
