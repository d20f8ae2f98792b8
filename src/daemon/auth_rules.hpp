// SPDX-License-Identifier: MIT
// The module's "auth users" rules: tokenizing, per-rule options and first-match evaluation.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocr::daemon {

/// @brief Source of a user's system group names, injected so that tests can fake it and
///        the daemon can decide where the (possibly blocking, NSS-backed) lookup runs.
class GroupLookup {
public:
    virtual ~GroupLookup() = default;
    /// @brief Names of every group @p user belongs to, primary group first.
    /// @param user the name the client sent (arbitrary peer bytes without NUL or LF).
    /// @return nullopt when @p user is not a system user or the lookup failed; upstream
    ///         treats both as "member of no group" (Upstream: authenticate.c:auth_server).
    virtual std::optional<std::vector<std::string>> groups_of_user(std::string_view user) = 0;
};

/// @brief A GroupLookup that knows no users: every "@group" rule then fails to match.
class NoGroupLookup final : public GroupLookup {
public:
    std::optional<std::vector<std::string>> groups_of_user(std::string_view) override
    {
        return std::nullopt;
    }
};

/// @brief Splits a config value the way upstream's config tokenizer does.
///
/// Normally tokens are separated by runs of space, tab, CR, LF and commas. If the value
/// (after leading white space) starts with a comma, it is split on commas alone and each
/// token is trimmed, so that tokens may contain spaces, e.g. ",@Domain Users:ro, bob".
/// Empty tokens are dropped. A NUL byte ends the value (it cannot occur in a C string).
/// (Upstream: util1.c:conf_strtok.)
/// @param value the raw config value.
/// @return the tokens, in order.
[[nodiscard]] std::vector<std::string> split_conf_tokens(std::string_view value);

/// @brief One parsed "auth users" token.
struct AuthRule {
    std::string pattern; ///< wildcard pattern (without the leading '@' of a group rule)
    bool group = false;  ///< the token started with '@': match the user's groups
    char option = 0;     ///< 'd' (deny), 'r' (ro), 'w' (rw) or 0 (none/unknown)
};

/// @brief Parses one token: the text before the first ':' is the pattern; after it an
///        option whose first letter (any case) 'd' means deny, and "ro"/"rw" (any case,
///        only the first two letters checked) mean read-only/read-write; anything else is
///        ignored (Upstream: authenticate.c:auth_server).
/// @param token one element of split_conf_tokens().
/// @return the rule.
[[nodiscard]] AuthRule parse_auth_rule(std::string_view token);

/// @brief Result of walking the rules for one user.
struct AuthRuleMatch {
    bool matched = false;             ///< some rule matched (false: "no matching rule")
    char option = 0;                  ///< option of the matching rule ('d', 'r', 'w', 0)
    std::optional<std::string> group; ///< the group name that matched a "@group" rule
};

/// @brief Applies the "auth users" rules to @p user; the first matching rule wins.
///
/// A user rule wildcard-matches the user name; a "@group" rule wildcard-matches each of
/// the user's groups (primary first) and the first matching group is remembered, because
/// only that group's "@group:password" lines are consulted in the secrets file. The group
/// list is looked up at most once, and only if a group rule is reached.
/// @param auth_users the module's "auth users" value.
/// @param user the user name from the client's reply.
/// @param groups source of the user's groups.
/// @return which rule matched, if any.
[[nodiscard]] AuthRuleMatch match_auth_rules(std::string_view auth_users, std::string_view user,
                                             GroupLookup& groups);

/// @brief Whether evaluating @p auth_users may need a group lookup (some token starts
///        with '@'); lets the caller skip scheduling an off-loop lookup when it cannot be
///        needed.
[[nodiscard]] bool auth_users_need_groups(std::string_view auth_users);

} // namespace ocr::daemon
