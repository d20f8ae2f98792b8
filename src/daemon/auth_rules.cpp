// SPDX-License-Identifier: MIT
// Implementation of the "auth users" tokenizer and rule matching.
#include "daemon/auth_rules.hpp"

#include "common/wildmatch.hpp"

namespace ocr::daemon {
namespace {

// The C library's isspace() in the "C" locale, which upstream's isSpace() uses.
bool is_c_space(char c) noexcept
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

char ascii_lower(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

} // namespace

std::vector<std::string> split_conf_tokens(std::string_view value)
{
    // Upstream handles C strings, so a NUL ends the value.
    if (const auto nul = value.find('\0'); nul != std::string_view::npos)
        value = value.substr(0, nul);

    std::size_t pos = 0;
    while (pos < value.size() && is_c_space(value[pos]))
        ++pos;

    std::vector<std::string> tokens;
    if (pos < value.size() && value[pos] == ',') {
        // Comma-only form: an entry may hold spaces (a group name like "Domain Users").
        ++pos;
        while (pos < value.size()) {
            std::size_t end = value.find(',', pos);
            if (end == std::string_view::npos)
                end = value.size();
            std::size_t b = pos;
            std::size_t e = end;
            while (b < e && is_c_space(value[b]))
                ++b;
            while (e > b && is_c_space(value[e - 1]))
                --e;
            if (e > b)
                tokens.emplace_back(value.substr(b, e - b));
            pos = end + 1;
        }
        return tokens;
    }

    // Normal form: only these five characters separate tokens; a vertical tab or form
    // feed inside the value stays part of its token, exactly as upstream splits.
    constexpr std::string_view kDelims = " ,\t\r\n";
    while (pos < value.size()) {
        pos = value.find_first_not_of(kDelims, pos);
        if (pos == std::string_view::npos)
            break;
        std::size_t end = value.find_first_of(kDelims, pos);
        if (end == std::string_view::npos)
            end = value.size();
        tokens.emplace_back(value.substr(pos, end - pos));
        pos = end;
    }
    return tokens;
}

AuthRule parse_auth_rule(std::string_view token)
{
    AuthRule rule;
    std::string_view pattern = token;
    if (const auto colon = token.find(':'); colon != std::string_view::npos) {
        pattern = token.substr(0, colon);
        const std::string_view opts = token.substr(colon + 1);
        const char first = opts.empty() ? '\0' : ascii_lower(opts[0]);
        if (first == 'r') {
            const char second = opts.size() > 1 ? ascii_lower(opts[1]) : '\0';
            if (second == 'o')
                rule.option = 'r';
            else if (second == 'w')
                rule.option = 'w';
        } else if (first == 'd') {
            rule.option = 'd';
        }
    }
    if (!pattern.empty() && pattern.front() == '@') {
        rule.group = true;
        pattern.remove_prefix(1);
    }
    rule.pattern = std::string(pattern);
    return rule;
}

AuthRuleMatch match_auth_rules(std::string_view auth_users, std::string_view user,
                               GroupLookup& groups)
{
    std::optional<std::vector<std::string>> user_groups;
    bool looked_up = false;

    for (const std::string& token : split_conf_tokens(auth_users)) {
        const AuthRule rule = parse_auth_rule(token);
        if (!rule.group) {
            if (ocr::wildmatch(rule.pattern, user))
                return AuthRuleMatch{true, rule.option, std::nullopt};
            continue;
        }
        if (!looked_up) {
            // Once per reply, and only when a group rule is actually reached.
            user_groups = groups.groups_of_user(user);
            looked_up = true;
        }
        if (!user_groups)
            continue;
        for (const std::string& g : *user_groups) {
            if (ocr::wildmatch(rule.pattern, g))
                return AuthRuleMatch{true, rule.option, g};
        }
    }
    return AuthRuleMatch{};
}

bool auth_users_need_groups(std::string_view auth_users)
{
    for (const std::string& token : split_conf_tokens(auth_users)) {
        if (token.front() == '@')
            return true;
    }
    return false;
}

} // namespace ocr::daemon
