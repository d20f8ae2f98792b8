// SPDX-License-Identifier: MIT
// The front-end's implementation of what the daemon handshake needs from the world.
#pragma once

#include "daemon/auth_group_lookup.hpp"
#include "daemon/handshake.hpp"
#include "daemon/host_lookup.hpp"
#include "daemon/module_filter_files.hpp"

#include <functional>
#include <map>
#include <string>

namespace ocr::frontend {

/// @brief Real lookups (run on the blocking pool) plus the server's slot counters.
class FrontendHandshakeEnv final : public daemon::HandshakeEnvironment {
public:
    using ClaimSlot = std::function<daemon::SlotClaim(const std::string&, int)>;

    FrontendHandshakeEnv(ClaimSlot claim, bool daemon_is_root, uid_t daemon_uid,
                         std::map<std::string, std::string, std::less<>> environment,
                         daemon::FilterRuleCheck filter_rule_check);

    daemon::NameResolver& resolver() override { return resolver_; }
    daemon::GroupLookup& groups() override { return groups_; }
    daemon::ClientName client_name(std::string_view addr) override;
    /// @brief The module's uid/gid and path, then its operator filter files. For a filter
    ///        file that cannot be opened the log text holds two lines (separated by '\n')
    ///        and the @ERROR text is empty: upstream sends the client nothing then.
    std::optional<std::pair<std::string, std::string>> check_module(const daemon::ModuleSettings& m,
                                                                    const std::string& path) override;
    daemon::SlotClaim claim_connection_slot(const std::string& lock_file, int max_connections) override;
    bool daemon_is_root() const override { return daemon_is_root_; }

private:
    daemon::SystemNameResolver resolver_;
    daemon::SystemGroupLookup groups_;
    ClaimSlot claim_;
    bool daemon_is_root_;
    uid_t daemon_uid_;
    std::map<std::string, std::string, std::less<>> environment_;
    daemon::FilterRuleCheck filter_rule_check_;
};

} // namespace ocr::frontend
