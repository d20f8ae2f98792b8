// SPDX-License-Identifier: MIT
// %VAR% expansion of rsyncd.conf values, for ordinary parameters and for shell hooks.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

namespace ocr::daemon {

/// @brief Looks a variable up in the environment a value is expanded in; nullopt when the
///        variable is not set.
using VarLookup = std::function<std::optional<std::string>(std::string_view name)>;

/// @brief How many bytes longer than its input an expansion may become (upstream's
///        buffer is the input length plus 2048; Upstream: loadparm.c:expand_vars).
inline constexpr std::size_t kMaxExpansionGrowth = 2048;

/// @brief Thrown when an expansion would exceed its size bound (upstream then ends the
///        session with RERR_MALLOC).
class VarExpansionTooLong : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// @brief Expands %VAR% references as upstream does (Upstream: loadparm.c:expand_vars).
///
/// A reference is a '%', an upper-case ASCII letter, then everything up to the next '%'
/// as the variable name. A reference to a variable that @p lookup does not know is kept
/// verbatim (the '%' is copied and scanning goes on after it), as is any other '%'.
/// Note that "%%" is therefore NOT collapsed: it stays "%%" (it merely can never start a
/// reference, which is what the manual means by "the safest way to insert a literal %").
/// @param value the raw value from the config.
/// @param lookup the environment.
/// @param max_growth bound on how much longer than @p value the result may be.
/// @return the expanded value.
/// @throw VarExpansionTooLong when the result would exceed the bound.
[[nodiscard]] std::string expand_vars(std::string_view value, const VarLookup& lookup,
                                      std::size_t max_growth = kMaxExpansionGrowth);

/// @brief Whether @p value holds something that could be a %VAR% reference (a '%', an
///        upper-case letter, later another '%'), i.e. whether its meaning depends on the
///        environment it is expanded in.
[[nodiscard]] bool has_var_reference(std::string_view value) noexcept;

/// @brief expand_vars_for_shell() refused: the named %RSYNC_*% variable's value holds a
///        character a shell could act on.
struct UnsafeShellValue {
    std::string variable; ///< e.g. "RSYNC_USER_NAME"

    bool operator==(const UnsafeShellValue&) const = default;
};

/// @brief Expands a shell hook command ("early exec", "pre-xfer exec", "post-xfer exec",
///        "name converter") as upstream does for those parameters.
///
/// Values of variables whose name starts with "RSYNC_" come from the peer (directly or
/// through the module path), so each one is refused outright if it holds white space, a
/// control character or any of '"`$\;&|<>()*?[]#!~{}, and is otherwise quoted for the
/// shell quoting context the reference appears in (unquoted, inside '...' or inside
/// "..."). Other variables are substituted verbatim, like expand_vars().
/// (Upstream: loadparm.c:expand_vars with shell_escape, shell_unsafe_value,
/// expand_vars_shell_escape.)
/// @param value the raw command from the config.
/// @param lookup the environment.
/// @param max_growth bound on how much longer than @p value the result may be.
/// @return the command, or which variable made it unsafe (the caller then refuses to run
///         the hook: "refusing to run shell hook: %VAR% holds a shell metacharacter").
/// @throw VarExpansionTooLong when the result would exceed the bound.
[[nodiscard]] std::variant<std::string, UnsafeShellValue>
expand_vars_for_shell(std::string_view value, const VarLookup& lookup,
                      std::size_t max_growth = kMaxExpansionGrowth);

} // namespace ocr::daemon
