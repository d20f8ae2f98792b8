// SPDX-License-Identifier: MIT
// One push from the client's filter list to the final goodbye: the file list, the
// destination (upstream main.c:do_server_recv, get_local_name, do_recv), and the
// generator and receiver running on two threads over one socket.
#pragma once

#include "transfer/connection.hpp"
#include "transfer/filter_set.hpp"
#include "transfer/filter_wire.hpp"
#include "transfer/module_writer.hpp"
#include "transfer/push_context.hpp"
#include "transfer/reporter.hpp"
#include "transfer/transfer_options.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ocr::transfer {

/// @brief What a push reports when it is done.
struct PushResult {
    int exit_code = 0; ///< 0, or 23/24/25 from the I/O error bits
    std::uint64_t total_read = 0;
    std::uint64_t total_written = 0;
    std::int64_t total_size = 0;
};

/// @brief Runs a push on a connection whose protocol setup is done and whose output is
///        multiplexed (input too from protocol 30).
class PushEngine {
public:
    struct Services {
        Connection& conn;
        int fd = -1; ///< the socket (to stop the reading thread after a failure)
        const ModuleWriter& writer;
        Reporter& report;
        FilterSet& filters;
        std::string module_name;
        bool chrooted = false;
        const ChmodRules* chmod = nullptr;        ///< client --chmod + incoming chmod, or nullptr
        const ChmodRules* daemon_chmod = nullptr; ///< the module's incoming chmod, or nullptr
        std::function<void(const PushLogItem&)> log_item{};
        /// The daemon-log line of a deletion (may be empty).
        std::function<void(std::string_view name, std::uint32_t mode)> log_delete{};
        /// Called where upstream main.c:do_recv forks its receiver (may be empty): errors
        /// before it end the way a process that is not yet am_receiver ends them.
        std::function<void()> on_receiver_start{};
    };

    PushEngine(const ReceiverOptions& options, Services services);

    /// @brief Runs the push.
    /// @throw ProtocolError (with upstream's text and exit code), PushPeerExit, FilterError.
    PushResult run(const WireFilterParams& wire);

private:
    PushDestination get_local_name(ReceiverFileLists& lists);
    /// upstream main.c:do_recv's check of --backup-dir before the receiver starts: one that
    ///        exists but is not a directory (or cannot be looked at) ends the session.
    /// @throw ProtocolError (exit 1, or 11 when the lookup fails other than with ENOENT).
    void check_backup_dir(const PushDestination& dest) const;
    /// upstream main.c:do_recv's check of --temp-dir before the receiver starts.
    void check_temp_dir(const std::string& rel) const;
    /// upstream main.c:check_alt_basis_dirs: resolves the --*-dest directories (module-
    ///        relative, into @p out) and warns about those that are missing or not dirs.
    void check_alt_basis_dirs(const PushDestination& dest, std::vector<std::string>& out) const;
    /// stat() of a module-relative path, following a final symlink inside the module.
    Errno stat_following(const std::string& rel, struct stat& st) const;

    const ReceiverOptions& opt_;
    Services s_;
};

} // namespace ocr::transfer
