// SPDX-License-Identifier: MIT
// Whether the operator's filter files a module names ("exclude from", "include from",
// "filter = merge FILE") can be opened, checked before "@RSYNCD: OK" as upstream does.
#pragma once

#include "daemon/config.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ocr::daemon {

/// @brief Checks the rules a module's filter parameters spell out (not those in files):
///        upstream's log lines for the first bad one, or nullopt. The rule parser lives in
///        the transfer layer, so the program passes this in.
using FilterRuleCheck =
    std::function<std::optional<std::vector<std::string>>(const ModuleSettings& module, const std::string& path)>;

/// @brief Opens @p path for reading and closes it again: 0, or the errno of the failure.
using FileOpenProbe = std::function<int(const std::string& path)>;

/// @brief The real probe: open(2) with O_RDONLY | O_NONBLOCK (a FIFO must not block us).
[[nodiscard]] int probe_open_for_reading(const std::string& path);

/// @brief Checks the module's operator filter files in upstream's order
///        (clientserver.c:rsync_module: "filter", "include from", "include",
///        "exclude from", "exclude"), stopping at the first one that cannot be opened.
///
/// Upstream parses them with fatal errors before it answers "@RSYNCD: OK", so a missing
/// file ends the connection with only its log lines (exclude.c:parse_filter_file). This
/// check is for a front-end that may not see everything the worker sees, so it only
/// fails where the worker would certainly fail too, and leaves every other case to the
/// worker's own parse:
/// - an error of EACCES or EPERM passes (the worker may have more privileges);
/// - a file is only checked while no rule precedes it (upstream then first matches the
///   name against the rules so far and treats a hidden file as absent without error);
/// - only absolute names already in canonical form are checked (upstream resolves the
///   others against its working or the module directory, and cleans the name first);
/// - of "filter", only a leading plain "merge FILE" / ". FILE" (modifiers '+' or '-'
///   at most) is understood; anything else there ends the check.
/// @param module the module's settings (the filter strings as the worker reads them).
/// @param probe how to try a file.
/// @return upstream's log lines (without newlines) for the first file that fails:
///         "rsync: [Receiver] failed to open exclude file NAME: TEXT (ERRNO)" and the
///         "rsync error: error in file IO (code 11) at exclude.c(1719) [Receiver=3.5.0]"
///         line; nullopt when nothing is known to fail.
[[nodiscard]] std::optional<std::vector<std::string>>
check_module_filter_files(const ModuleSettings& module, const FileOpenProbe& probe);

} // namespace ocr::daemon
