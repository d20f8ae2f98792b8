// SPDX-License-Identifier: MIT
// A pull: the daemon is the sender (upstream clientserver.c:rsync_module's tail,
// main.c:start_server and do_server_sender), from the setup bytes to the session's end.
#pragma once

#include "common/unique_fd.hpp"
#include "daemon/config.hpp"
#include "daemon/module_policy.hpp"
#include "daemon/server_options.hpp"
#include "daemon/session_descriptor.hpp"
#include "daemon/upstream_text.hpp"
#include "transfer/module_fs.hpp"
#include "worker/confinement.hpp"
#include "worker/filter_files.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace ocr::worker {

/// @brief What the worker established before the transfer starts.
struct PullContext {
    const daemon::Config& config;
    const daemon::SessionDefaults& defaults;
    const daemon::ModuleSettings& module;
    const daemon::SessionDescriptor& session;
    ConfinedModule& confined;
    WorkerFilterFiles& filter_files;
    /// Upstream module_dirlen: how many leading characters of a sanitized absolute path
    /// name the module directory (0 for a chroot module).
    std::size_t module_dirlen = 0;
    /// The contents of --files-from=FILE (a file inside the module), read while parsing.
    std::optional<std::string> files_from_content;
    int io_timeout = 0;
    /// The module's refusal of this pull (daemon::check_module_policy), made once the
    /// client's filter list is in, where upstream's do_server_sender makes it.
    std::optional<daemon::Rejection> refusal;
};

/// @brief Where upstream's sender exits for a fatal error of ours that names no site: the
///        sum-header, index and log-format checks (which the protocol and transfer layers
///        raise without one) by their text, else a site per exit code.
/// @param code the exit code.
/// @param message the error's text.
/// @return the "at FILE(LINE)" of upstream's "rsync error:" line.
[[nodiscard]] daemon::UpstreamSite pull_error_site(int code, std::string_view message);

/// @brief Sets up the module tree as a pull's sender reads it: in a "fake super" module
///        (upstream am_root < 0, which only the module setting gives a daemon) each entry's
///        stored record is laid over its real stat, so the client gets the modes, owners
///        and device numbers an earlier push stored there.
/// @param fs the module tree.
/// @param options the accepted options after the module's overrides.
void configure_sender_fs(transfer::ModuleFs& fs, const daemon::ServerOptions& options);

/// @brief Runs the pull on @p client. @p options are the accepted options after the
///        module's overrides.
/// @return the session's exit code.
int run_pull(const PullContext& ctx, daemon::ServerOptions& options, UniqueFd client);

} // namespace ocr::worker
