// SPDX-License-Identifier: MIT
// Wildcard expansion of a pull's path arguments inside the module (upstream
// util1.c:glob_expand and glob_match, which a daemon runs on every argument after ".").
#pragma once

#include "transfer/filter_set.hpp"
#include "transfer/module_fs.hpp"

#include <string>
#include <vector>

namespace ocr::transfer {

/// @brief Expands @p arg (already sanitized or cleaned as read_args leaves it) against the
///        module, appending the matches to @p out in directory order.
///
/// As upstream: each '/'-separated component with "*?[" is matched with wildmatch
/// against the directory's names (never "." or ".."); a component that leads on must be
/// a directory; names the module's filter excludes are not matched; an argument that
/// matches nothing is kept as it is (the file-list stage then reports it).
/// @param fs the confined module.
/// @param filters for the module's own rules (daemon_excluded, from the module root).
/// @return true when something matched (upstream's return value 1).
bool glob_module_argument(const ModuleFs& fs, const FilterSet& filters, const std::string& arg,
                          std::vector<std::string>& out);

} // namespace ocr::transfer
