// SPDX-License-Identifier: MIT
// Expansion of the motd and secrets file paths with the load-time environment.
#include "daemon/config_paths.hpp"

#include "daemon/var_expand.hpp"

namespace ocr::daemon {

std::string resolve_motd_path(std::string_view raw, const Environment& env)
{
    if (raw.empty())
        return {};
    try {
        return expand_vars(raw, [&](std::string_view name) -> std::optional<std::string> {
            auto it = env.find(name);
            if (it == env.end())
                return std::nullopt;
            return it->second;
        });
    } catch (const VarExpansionTooLong&) {
        return {};
    }
}

std::optional<std::string> resolve_secrets_path(std::string_view raw, std::string_view module_name,
                                                const Environment& env)
{
    if (raw.empty())
        return std::string();
    bool per_connection = false;
    try {
        std::string path =
            expand_vars(raw, [&](std::string_view name) -> std::optional<std::string> {
                if (name == "RSYNC_MODULE_NAME")
                    return std::string(module_name);
                if (name == "RSYNC_HOST_NAME" || name == "RSYNC_HOST_ADDR") {
                    per_connection = true;
                    return std::nullopt;
                }
                auto it = env.find(name);
                if (it == env.end())
                    return std::nullopt;
                return it->second;
            });
        if (per_connection)
            return std::nullopt;
        return path;
    } catch (const VarExpansionTooLong&) {
        return std::nullopt;
    }
}

} // namespace ocr::daemon
