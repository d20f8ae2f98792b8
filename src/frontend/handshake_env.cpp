// SPDX-License-Identifier: MIT
#include "frontend/handshake_env.hpp"

#include "daemon/module_filter_files.hpp"
#include "daemon/module_identity.hpp"

namespace ocr::frontend {

FrontendHandshakeEnv::FrontendHandshakeEnv(ClaimSlot claim, bool daemon_is_root, uid_t daemon_uid,
                                           std::map<std::string, std::string, std::less<>> environment,
                                           daemon::FilterRuleCheck filter_rule_check)
    : claim_(std::move(claim)), daemon_is_root_(daemon_is_root), daemon_uid_(daemon_uid),
      environment_(std::move(environment)), filter_rule_check_(std::move(filter_rule_check))
{
}

daemon::ClientName FrontendHandshakeEnv::client_name(std::string_view addr)
{
    return daemon::lookup_client_name(addr);
}

std::optional<std::pair<std::string, std::string>>
FrontendHandshakeEnv::check_module(const daemon::ModuleSettings& m, const std::string& path)
{
    const auto& env = environment_;
    daemon::VarLookup lookup = [&env, &m](std::string_view name) -> std::optional<std::string> {
        if (name == "RSYNC_MODULE_NAME")
            return m.name;
        if (auto it = env.find(name); it != env.end())
            return it->second;
        return std::nullopt;
    };
    auto id = daemon::resolve_module_identity(m, lookup, daemon_is_root_, daemon_uid_);
    if (auto* err = std::get_if<daemon::ModuleCheckError>(&id))
        return std::make_pair(err->log_line, err->error_line);
    const bool chroot = daemon::module_uses_chroot(m, path, daemon_is_root_);
    if (auto err = daemon::check_module_path(path, chroot))
        return std::make_pair(err->log_line, err->error_line);
    // Upstream parses the module's filter settings next, still before "@RSYNCD: OK"; a
    // bad rule or a filter file that cannot be opened ends the connection with log lines
    // only (no @ERROR text: the client just sees the connection close). The rules are
    // checked up to the first file they need, so a bad rule is found before the file
    // check looks further, in upstream's order.
    std::optional<std::vector<std::string>> lines;
    if (filter_rule_check_)
        lines = filter_rule_check_(m, path);
    if (!lines)
        lines = daemon::check_module_filter_files(m, daemon::probe_open_for_reading);
    if (lines) {
        std::string log;
        for (const std::string& line : *lines) {
            if (!log.empty())
                log += '\n';
            log += line;
        }
        return std::make_pair(std::move(log), std::string());
    }
    return std::nullopt;
}

daemon::SlotClaim FrontendHandshakeEnv::claim_connection_slot(const std::string& lock_file, int max_connections)
{
    return claim_(lock_file, max_connections);
}

} // namespace ocr::frontend
