// SPDX-License-Identifier: MIT
// The module's own filter list, built from its rsyncd.conf parameters.
#include "transfer/filter_daemon.hpp"

namespace ocr::transfer {
namespace {

// Thrown by StopAtFiles: the check cannot go past a rule that needs a file's contents.
struct FileNeeded {};

class StopAtFiles final : public FilterFileSource {
public:
    FilterFileRead read_module_file(std::string_view, std::size_t) override { throw FileNeeded{}; }
    FilterFileRead read_operator_file(std::string_view, std::size_t) override { throw FileNeeded{}; }
};

} // namespace

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

std::optional<FilterError> module_filter_config_error(const ModuleFilterConfig& config)
{
    StopAtFiles files;
    FilterSet scratch(FilterOptions{}, files);
    try {
        load_module_filters(scratch, config);
    } catch (const FilterError& e) {
        return e;
    } catch (const FileNeeded&) {
        // A file comes first: whatever follows is the worker's to find.
    }
    return std::nullopt;
}

} // namespace ocr::transfer
