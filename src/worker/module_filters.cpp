// SPDX-License-Identifier: MIT
#include "worker/module_filters.hpp"

#include "daemon/upstream_text.hpp"

namespace ocr::worker {
namespace {
// Upstream exclude.c:filter_rule_err, where a bad rule ends the process.
constexpr protocol::UpstreamSite kSiteFilterRuleError{"exclude.c", 136};
} // namespace

transfer::ModuleFilterConfig module_filter_config(const daemon::ModuleSettings& m, const std::string& path)
{
    return transfer::ModuleFilterConfig{m.filter, m.include_from, m.include, m.exclude_from, m.exclude, path};
}

std::optional<std::vector<std::string>> module_filter_rule_errors(const daemon::ModuleSettings& m,
                                                                  const std::string& path)
{
    const std::optional<transfer::FilterError> error = transfer::module_filter_config_error(module_filter_config(m, path));
    // Only syntax errors are certain without the files; anything else is the worker's.
    if (!error || error->code() != protocol::ExitCode::Syntax)
        return std::nullopt;
    const protocol::UpstreamSite site = error->site().file != nullptr ? error->site() : kSiteFilterRuleError;
    // Upstream who_am_i() before the transfer's roles are set is "Receiver".
    std::string last = daemon::rsync_error_line(protocol::to_int(error->code()), site, daemon::UpstreamRole::Receiver);
    while (!last.empty() && last.back() == '\n')
        last.pop_back();
    return std::vector<std::string>{error->what(), std::move(last)};
}

} // namespace ocr::worker
