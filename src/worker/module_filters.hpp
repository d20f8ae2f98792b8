// SPDX-License-Identifier: MIT
// A module's own filter parameters as the transfer layer's filter engine takes them.
#pragma once

#include "daemon/config.hpp"
#include "transfer/filter_daemon.hpp"

#include <optional>
#include <string>
#include <vector>

namespace ocr::worker {

/// @brief The module's filter parameters, with @p path its expanded "path".
[[nodiscard]] transfer::ModuleFilterConfig module_filter_config(const daemon::ModuleSettings& m,
                                                                const std::string& path);

/// @brief A daemon::FilterRuleCheck: upstream's log lines for the first bad rule the
///        module's parameters spell out ("Unknown filter rule: ..." and the "rsync error:
///        syntax or usage error (code 1)" line), or nullopt. Stops at the first rule that
///        needs a file, which the worker reads itself.
[[nodiscard]] std::optional<std::vector<std::string>> module_filter_rule_errors(const daemon::ModuleSettings& m,
                                                                                const std::string& path);

} // namespace ocr::worker
