// SPDX-License-Identifier: MIT
// --check-config: checks of a loaded Config against the filesystem and user database.
#pragma once

#include "daemon/config.hpp"

#include <optional>
#include <string>
#include <vector>

namespace ocr::daemon {

/// @brief What validate_config() may ask about the system; tests substitute a fake.
class ValidationEnvironment {
public:
    virtual ~ValidationEnvironment() = default;
    /// @brief Whether @p path is an existing directory (following symlinks).
    [[nodiscard]] virtual bool is_dir(const std::string& path) const = 0;
    /// @brief Whether a user called @p name exists.
    [[nodiscard]] virtual bool user_exists(const std::string& name) const = 0;
    /// @brief Whether a group called @p name exists.
    [[nodiscard]] virtual bool group_exists(const std::string& name) const = 0;
    /// @brief Whether the daemon runs as root (its effective uid is 0).
    [[nodiscard]] virtual bool running_as_root() const = 0;
};

/// @brief The real system: stat(), getpwnam_r(), getgrnam_r(), geteuid().
class SystemValidationEnvironment final : public ValidationEnvironment {
public:
    [[nodiscard]] bool is_dir(const std::string& path) const override;
    [[nodiscard]] bool user_exists(const std::string& name) const override;
    [[nodiscard]] bool group_exists(const std::string& name) const override;
    [[nodiscard]] bool running_as_root() const override;
};

/// @brief Whether the listeners @p globals ask for leave anything to listen on: with
///        "plain listener = no" only the TLS port is opened, and there is none without
///        "tls cert file".
/// @param globals the global settings.
/// @return nullopt when at least one listener is configured, else a one-line message that
///         names the parameters (the daemon refuses to start with it; --check-config
///         reports it at the "plain listener" line).
[[nodiscard]] std::optional<std::string> listener_problem(const GlobalSettings& globals);

/// @brief Checks a loaded configuration for mistakes that would only show up when a
///        client connects (or that make the daemon refuse to start).
///
/// Each problem points at the parameter that causes it (or the module header): a module
/// without "path"; a "path" that is not a directory (skipped when it holds a %VAR%; taken
/// below "daemon chroot" when that is set); "uid"/"gid" (and "daemon uid"/"daemon gid")
/// names that do not resolve (numbers always do; %VAR% skipped); "auth users" without
/// "secrets file"; a secrets file that cannot be read, is other-accessible while
/// "strict modes" is on, or is not root-owned when running as root; an unreadable
/// "motd file"; "spare workers" above "transfer workers"; a TLS key without a certificate
/// or vice versa; "plain listener = no" without a TLS listener (see listener_problem());
/// "tls verify client" without "tls ca file"; "tls user from" without client
/// verification; "proxy protocol" without "proxy protocol hosts" (a warning); a
/// numeric "syslog facility" that is no facility; an "auth digest" that is not sha512,
/// sha256, sha1, md5 or md4.
/// @param config the loaded configuration (its bundle holds the secrets and motd reads).
/// @param env the system to check against.
/// @return the problems, globals first, then each module in order.
[[nodiscard]] std::vector<Problem> validate_config(const Config& config,
                                                   const ValidationEnvironment& env);

} // namespace ocr::daemon
