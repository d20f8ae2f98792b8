// SPDX-License-Identifier: MIT
// Tests of the "auth users" tokenizer, rule options and first-match evaluation.
#include "daemon/auth_rules.hpp"

#include <gtest/gtest.h>

#include <map>

namespace ocr::daemon {
namespace {

using Tokens = std::vector<std::string>;

class CountingGroups final : public GroupLookup {
public:
    std::map<std::string, std::vector<std::string>> members;
    std::vector<std::string> asked;
    std::optional<std::vector<std::string>> groups_of_user(std::string_view user) override
    {
        asked.emplace_back(user);
        const auto it = members.find(std::string(user));
        if (it == members.end())
            return std::nullopt;
        return it->second;
    }
};

// Verifies the normal form: space, tab, CR, LF and comma separate; runs collapse.
TEST(SplitConfTokens, NormalForm)
{
    EXPECT_EQ(split_conf_tokens("alice bob,carol\tdave\r\neve"),
              (Tokens{"alice", "bob", "carol", "dave", "eve"}));
    EXPECT_EQ(split_conf_tokens("a,,b , c:ro"), (Tokens{"a", "b", "c:ro"}));
    EXPECT_EQ(split_conf_tokens(""), Tokens{});
    EXPECT_EQ(split_conf_tokens(" \t "), Tokens{});
}

// Verifies that a vertical tab or form feed is skipped at the start but does not separate
// tokens later (upstream's delimiter set is only " ,\t\r\n").
TEST(SplitConfTokens, VerticalTabAndFormFeed)
{
    EXPECT_EQ(split_conf_tokens("\v\f alice"), Tokens{"alice"});
    EXPECT_EQ(split_conf_tokens("a\vb c\fd"), (Tokens{"a\vb", "c\fd"}));
}

// Verifies the comma-leading form: commas alone separate, tokens are trimmed and keep
// inner spaces, empty tokens vanish.
TEST(SplitConfTokens, CommaLeadingForm)
{
    EXPECT_EQ(split_conf_tokens(", @Domain Users:ro , bob ,, carol smith,"),
              (Tokens{"@Domain Users:ro", "bob", "carol smith"}));
    EXPECT_EQ(split_conf_tokens("  ,a b"), Tokens{"a b"});
    EXPECT_EQ(split_conf_tokens(", \t ,"), Tokens{});
    EXPECT_EQ(split_conf_tokens(","), Tokens{});
}

// Verifies that a NUL ends the value as it would end upstream's C string.
TEST(SplitConfTokens, NulEndsValue)
{
    EXPECT_EQ(split_conf_tokens(std::string("a b\0c d", 7)), (Tokens{"a", "b"}));
}

// Verifies option parsing: deny by first letter, ro/rw by two letters, any case, the rest
// ignored; the pattern ends at the first ':'.
TEST(ParseAuthRule, Options)
{
    const std::map<std::string, char> cases = {
        {"alice", 0},       {"alice:deny", 'd'}, {"alice:DENY", 'd'}, {"alice:d", 'd'},
        {"alice:dx", 'd'},  {"alice:ro", 'r'},   {"alice:RO", 'r'},   {"alice:rO", 'r'},
        {"alice:Rw", 'w'},  {"alice:rwx", 'w'},  {"alice:rx", 0},     {"alice:r", 0},
        {"alice:x", 0},     {"alice:", 0},       {"alice:ro:rw", 'r'}, {"alice: ro", 0},
    };
    for (const auto& [token, option] : cases) {
        const AuthRule rule = parse_auth_rule(token);
        EXPECT_EQ(rule.option, option) << token;
        EXPECT_EQ(rule.pattern, "alice") << token;
        EXPECT_FALSE(rule.group) << token;
    }
}

// Verifies group rules and degenerate patterns.
TEST(ParseAuthRule, GroupsAndEmptyPatterns)
{
    AuthRule rule = parse_auth_rule("@wheel:rw");
    EXPECT_TRUE(rule.group);
    EXPECT_EQ(rule.pattern, "wheel");
    EXPECT_EQ(rule.option, 'w');
    rule = parse_auth_rule(":ro");
    EXPECT_FALSE(rule.group);
    EXPECT_EQ(rule.pattern, "");
    EXPECT_EQ(rule.option, 'r');
    rule = parse_auth_rule("@");
    EXPECT_TRUE(rule.group);
    EXPECT_EQ(rule.pattern, "");
}

// Verifies that the first matching rule wins, whatever later rules say.
TEST(MatchAuthRules, FirstMatchWins)
{
    CountingGroups groups;
    AuthRuleMatch m = match_auth_rules("alice:deny alice:rw", "alice", groups);
    EXPECT_TRUE(m.matched);
    EXPECT_EQ(m.option, 'd');
    m = match_auth_rules("a* alice:deny", "alice", groups);
    EXPECT_TRUE(m.matched);
    EXPECT_EQ(m.option, 0);
    m = match_auth_rules("bob alice:ro", "alice", groups);
    EXPECT_EQ(m.option, 'r');
    EXPECT_FALSE(match_auth_rules("bob carol", "alice", groups).matched);
    EXPECT_FALSE(match_auth_rules("", "alice", groups).matched);
    EXPECT_TRUE(groups.asked.empty());
}

// Verifies wildcard user rules with upstream's wildmatch semantics, including that a
// single '*' does not cross '/' while '**' does, and that names are case-sensitive.
TEST(MatchAuthRules, Wildcards)
{
    CountingGroups groups;
    EXPECT_TRUE(match_auth_rules("al?ce", "alice", groups).matched);
    EXPECT_TRUE(match_auth_rules("[ab]*", "bob", groups).matched);
    EXPECT_FALSE(match_auth_rules("[ab]*", "carol", groups).matched);
    EXPECT_FALSE(match_auth_rules("*", "a/b", groups).matched);
    EXPECT_TRUE(match_auth_rules("**", "a/b", groups).matched);
    EXPECT_FALSE(match_auth_rules("Alice", "alice", groups).matched);
    EXPECT_TRUE(match_auth_rules(":ro", "", groups).matched);
}

// Verifies "@group" rules: the user's groups are looked up once, only when a group rule
// is reached, and the first of the user's groups matching the pattern is reported.
TEST(MatchAuthRules, GroupRules)
{
    CountingGroups groups;
    groups.members["frank"] = {"users", "staff", "staff-admins"};
    AuthRuleMatch m = match_auth_rules("@wheel @sta*:ro @users:deny", "frank", groups);
    EXPECT_TRUE(m.matched);
    EXPECT_EQ(m.option, 'r');
    EXPECT_EQ(m.group, "staff");
    EXPECT_EQ(groups.asked, Tokens{"frank"});

    groups.asked.clear();
    m = match_auth_rules("frank:rw @staff", "frank", groups);
    EXPECT_TRUE(m.matched);
    EXPECT_FALSE(m.group);
    EXPECT_TRUE(groups.asked.empty());

    m = match_auth_rules("@staff @*", "nobody-known", groups);
    EXPECT_FALSE(m.matched);
    EXPECT_EQ(groups.asked, Tokens{"nobody-known"});
}

// Verifies that the comma-leading form lets a rule name a group with a space, while the
// normal form tears it into two unrelated rules (the behaviour behind CVE-2026-70463).
TEST(MatchAuthRules, GroupNameWithSpace)
{
    CountingGroups groups;
    groups.members["carol"] = {"Domain Users"};
    AuthRuleMatch m = match_auth_rules(",@Domain Users:rw, bob:deny", "carol", groups);
    EXPECT_TRUE(m.matched);
    EXPECT_EQ(m.option, 'w');
    EXPECT_EQ(m.group, "Domain Users");

    EXPECT_FALSE(match_auth_rules("@Domain Users:rw", "carol", groups).matched);
    m = match_auth_rules("@Domain Users:rw", "Users", groups);
    EXPECT_TRUE(m.matched);
    EXPECT_FALSE(m.group);
}

// Verifies detection of rules that may need a group lookup.
TEST(AuthUsersNeedGroups, DetectsGroupTokens)
{
    EXPECT_FALSE(auth_users_need_groups("alice bob:ro"));
    EXPECT_FALSE(auth_users_need_groups(""));
    EXPECT_TRUE(auth_users_need_groups("alice @staff"));
    EXPECT_TRUE(auth_users_need_groups(", bob, @Domain Users"));
}

} // namespace
} // namespace ocr::daemon
