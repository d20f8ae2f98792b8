// SPDX-License-Identifier: MIT
// The table of rsyncd.conf parameters: names, types, scope, and typed value parsing.
#pragma once

#include "daemon/config.hpp"

#include <climits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace ocr::daemon {

/// @brief Value type of a parameter, as in upstream's daemon-parm.txt (plus the enums of
///        the ocrsyncd extensions).
enum class ParamType {
    String,  ///< stored raw, %VAR% expanded by its user
    Path,    ///< a String whose trailing slashes are removed (Upstream: loadparm.c P_PATH)
    Integer, ///< whole decimal number within [min_value, max_value]
    Bool,    ///< yes/no, true/false, 1/0
    Bool3,   ///< a Bool or "unset" / -1
    Enum,    ///< one of a fixed set of names
};

/// @brief The setting a parameter is stored in.
using ParamMember =
    std::variant<std::string GlobalSettings::*, int GlobalSettings::*, bool GlobalSettings::*,
                 TlsVerifyClient GlobalSettings::*, TlsVersion GlobalSettings::*,
                 TlsUserFrom GlobalSettings::*, std::string ModuleSettings::*,
                 int ModuleSettings::*, bool ModuleSettings::*, Bool3 ModuleSettings::*>;

/// @brief One parameter.
struct ParamInfo {
    std::string_view label; ///< canonical name, as in the manual ("max connections")
    std::string_view alias; ///< another accepted name, or empty
    ParamType type;
    bool global;             ///< a Global (daemon-wide) parameter; else a Local (module) one
    bool extension;          ///< an ocrsyncd extension, unknown to upstream
    int min_value = INT_MIN; ///< Integer only
    int max_value = INT_MAX; ///< Integer only
    ParamMember member;

    /// @brief Whether values are stored raw (String or Path).
    [[nodiscard]] bool is_string() const noexcept
    {
        return type == ParamType::String || type == ParamType::Path;
    }
};

/// @brief Every parameter: upstream 3.5.0's Globals and Locals, then the extensions.
[[nodiscard]] std::span<const ParamInfo> all_params() noexcept;

/// @brief Upstream's name comparison: ASCII case-insensitive, white space ignored
///        anywhere ("max connections" == "MaxConnections"). (Upstream: loadparm.c:strwiEQ.)
[[nodiscard]] bool names_equal(std::string_view a, std::string_view b) noexcept;

/// @brief Finds a parameter by name or alias (compared with names_equal()).
/// @return the parameter, or null if unknown.
[[nodiscard]] const ParamInfo* find_param(std::string_view name) noexcept;

/// @brief Stores a text value into its setting.
///
/// For a global parameter @p globals is written, for a local one @p module.
/// @param param the parameter.
/// @param value the value, already trimmed (and for non-string types already expanded).
/// @param globals the global settings.
/// @param module the module (or global-defaults) settings.
/// @return nullopt on success, else a one-line problem message naming the parameter; the
///         setting is then unchanged.
[[nodiscard]] std::optional<std::string> apply_param(const ParamInfo& param, std::string_view value,
                                                     GlobalSettings& globals,
                                                     ModuleSettings& module);

/// @brief The current value of a parameter as config text (what apply_param() would take
///        to produce it).
[[nodiscard]] std::string format_param(const ParamInfo& param, const GlobalSettings& globals,
                                       const ModuleSettings& module);

/// @brief Copies a local parameter's value from @p from to @p to (no-op for globals).
void copy_param(const ParamInfo& param, ModuleSettings& to, const ModuleSettings& from);

/// @brief Parses a boolean as upstream does: yes/true/1 or no/false/0, compared with
///        names_equal(). (Upstream: loadparm.c:set_boolean.)
[[nodiscard]] std::optional<bool> parse_bool(std::string_view value) noexcept;

/// @brief Parses a BOOL3: a boolean, or "unset" / "-1".
[[nodiscard]] std::optional<Bool3> parse_bool3(std::string_view value) noexcept;

/// @brief The facility for a syslog facility name (case-insensitive: auth, authpriv, cron,
///        daemon, ftp, kern, lpr, mail, news, security, syslog, user, uucp, local0..local7).
///        (Upstream: loadparm.c enum_syslog_facility.)
[[nodiscard]] std::optional<int> syslog_facility_from_name(std::string_view name) noexcept;

/// @brief The name of a facility value, or empty if it is none of the known ones.
[[nodiscard]] std::string_view syslog_facility_name(int facility) noexcept;

} // namespace ocr::daemon
