// SPDX-License-Identifier: MIT
// The module's own filter list, built from its rsyncd.conf parameters.
#pragma once

#include "transfer/filter_set.hpp"

#include "transfer/filter_error.hpp"

#include <optional>
#include <string>

namespace ocr::transfer {

/// @brief A module's filter parameters, as rsyncd.conf gives them (empty = unset).
struct ModuleFilterConfig {
    std::string filter;       ///< "filter": full rules, split on white space between rules.
    std::string include_from; ///< "include from": an operator file of include patterns.
    std::string include;      ///< "include": space-separated patterns ("- "/"+ " allowed).
    std::string exclude_from; ///< "exclude from": an operator file of exclude patterns.
    std::string exclude;      ///< "exclude": space-separated patterns ("- "/"+ " allowed).
    /// The module's "path" as configured: a merge-file name in "filter" with a '/' but no
    /// leading '/' is read relative to it (upstream resolves it against module_dir).
    std::string module_path;
};

/// @brief Builds the daemon list of @p set from @p config, in upstream's order and modes
///        (clientserver.c:rsync_module): filter, include from, include, exclude from, exclude;
///        every rule with a '/' is anchored at the module root, "dir/" excludes become
///        "dir/***", hide/show rules are dropped, and the *_from files are read through
///        FilterFileSource::read_operator_file() with fatal errors.
///
/// Call once, before any client rule, while the operator's files are still readable.
/// @param set The session's filter set (its daemon list should be empty).
/// @param config The module's parameters.
/// @throw FilterError on a bad rule (exit 1) or an unreadable *_from file (exit 11); upstream
///        logs the text and drops the connection before sending anything.
void load_module_filters(FilterSet& set, const ModuleFilterConfig& config);

/// @brief The error load_module_filters() would throw, as far as it can be known without
///        reading a file: the rules are parsed in the same order up to the first operator
///        file they need, and the check ends there with no verdict.
///
/// Upstream fails a bad rule before "@RSYNCD: OK" (clientserver.c:rsync_module, then
/// exclude.c:filter_rule_err); the front-end, which cannot read the operator's files,
/// uses this to do the same for the rules the configuration spells out.
/// @return The FilterError (text and exit code), or nullopt when none is found.
[[nodiscard]] std::optional<FilterError> module_filter_config_error(const ModuleFilterConfig& config);

} // namespace ocr::transfer
