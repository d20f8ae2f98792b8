// SPDX-License-Identifier: MIT
// Tests of %VAR% expansion, plain and for shell hooks.
#include "daemon/var_expand.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace ocr::daemon {
namespace {

VarLookup env(std::map<std::string, std::string, std::less<>> vars)
{
    return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end())
            return std::nullopt;
        return it->second;
    };
}

const VarLookup kEnv = env({{"HOME", "/root"},
                            {"RSYNC_USER_NAME", "alice"},
                            {"RSYNC_MODULE_NAME", "mod"},
                            {"Home", "mixed"},
                            {"EMPTY", ""}});

// Verifies that known variables are substituted.
TEST(VarExpand, KnownVariables)
{
    EXPECT_EQ(expand_vars("/home/%RSYNC_USER_NAME%/%RSYNC_MODULE_NAME%", kEnv), "/home/alice/mod");
    EXPECT_EQ(expand_vars("%HOME%", kEnv), "/root");
    EXPECT_EQ(expand_vars("a%EMPTY%b", kEnv), "ab");
}

// Verifies that values without references are returned unchanged.
TEST(VarExpand, NoReferences)
{
    EXPECT_EQ(expand_vars("/srv/rsync", kEnv), "/srv/rsync");
    EXPECT_EQ(expand_vars("", kEnv), "");
    EXPECT_EQ(expand_vars("100%", kEnv), "100%");
}

// Verifies that unknown variables and incomplete references pass through verbatim.
TEST(VarExpand, UnknownPassesThrough)
{
    EXPECT_EQ(expand_vars("%NOPE%", kEnv), "%NOPE%");
    EXPECT_EQ(expand_vars("%HOME", kEnv), "%HOME");
    EXPECT_EQ(expand_vars("a%", kEnv), "a%");
    // Scanning resumes after the '%' of an unknown reference, so its closing '%' can open
    // the next one: upstream gives "%FOO/root" here.
    EXPECT_EQ(expand_vars("%FOO%HOME%", kEnv), "%FOO/root");
}

// Verifies that a reference must start with an upper-case letter, and that the rest of
// the name is taken as is.
TEST(VarExpand, NameMustStartUpperCase)
{
    EXPECT_EQ(expand_vars("%home%", kEnv), "%home%");
    EXPECT_EQ(expand_vars("%Home%", kEnv), "mixed");
    EXPECT_EQ(expand_vars("%1HOME%", kEnv), "%1HOME%");
}

// Verifies upstream's handling of "%%": it is not collapsed; it only keeps the first '%'
// from starting a reference (checked against rsync 3.5.0: "100%% done" is listed as
// "100%% done" and "%%HOME%" as "%/root").
TEST(VarExpand, DoublePercentIsKept)
{
    EXPECT_EQ(expand_vars("100%% done", kEnv), "100%% done");
    EXPECT_EQ(expand_vars("%%HOME%", kEnv), "%/root");
    EXPECT_EQ(expand_vars("%%", kEnv), "%%");
}

// Verifies that a null lookup expands nothing.
TEST(VarExpand, NullLookup)
{
    EXPECT_EQ(expand_vars("%HOME%", VarLookup{}), "%HOME%");
}

// Verifies that an expansion growing more than the bound throws.
TEST(VarExpand, GrowthBound)
{
    auto big = env({{"BIG", std::string(3000, 'x')}, {"MID", std::string(1500, 'y')}});
    EXPECT_THROW((void)expand_vars("%BIG%", big), VarExpansionTooLong);
    EXPECT_EQ(expand_vars("%MID%", big).size(), 1500u);
    EXPECT_THROW((void)expand_vars("%MID%%MID%", big), VarExpansionTooLong);
    EXPECT_EQ(expand_vars("%BIG%", big, 4096).size(), 3000u);
}

// Verifies has_var_reference().
TEST(VarExpand, HasReference)
{
    EXPECT_TRUE(has_var_reference("/home/%RSYNC_USER_NAME%"));
    EXPECT_TRUE(has_var_reference("%X%"));
    EXPECT_FALSE(has_var_reference("/srv/100%"));
    EXPECT_FALSE(has_var_reference("%lower%"));
    EXPECT_FALSE(has_var_reference("%%"));
    EXPECT_FALSE(has_var_reference("%ABC"));
}

// Verifies that shell hooks get RSYNC_* values quoted for the context they land in.
TEST(VarExpandShell, QuotingContexts)
{
    using V = std::variant<std::string, UnsafeShellValue>;
    EXPECT_EQ(expand_vars_for_shell("/bin/hook %RSYNC_USER_NAME%", kEnv), V("/bin/hook 'alice'"));
    EXPECT_EQ(expand_vars_for_shell("/bin/hook '%RSYNC_USER_NAME%'", kEnv), V("/bin/hook 'alice'"));
    EXPECT_EQ(expand_vars_for_shell("/bin/hook \"%RSYNC_USER_NAME%\"", kEnv),
              V("/bin/hook \"'alice'\""));
    // After a closed '...' we are unquoted again.
    EXPECT_EQ(expand_vars_for_shell("echo 'x' %RSYNC_MODULE_NAME%", kEnv), V("echo 'x' 'mod'"));
    // A ' inside "..." does not open a single-quoted run.
    EXPECT_EQ(expand_vars_for_shell("echo \"it's %RSYNC_MODULE_NAME%\"", kEnv),
              V("echo \"it's 'mod'\""));
    // An escaped quote does not open a quoted run.
    EXPECT_EQ(expand_vars_for_shell("echo \\\" %RSYNC_MODULE_NAME%", kEnv), V("echo \\\" 'mod'"));
}

// Verifies that non-RSYNC_ variables are substituted verbatim even in hooks.
TEST(VarExpandShell, OtherVariablesVerbatim)
{
    using V = std::variant<std::string, UnsafeShellValue>;
    EXPECT_EQ(expand_vars_for_shell("%HOME%/bin/hook", kEnv), V("/root/bin/hook"));
    EXPECT_EQ(expand_vars_for_shell("%NOPE% x", kEnv), V("%NOPE% x"));
}

// Verifies that a peer value holding any shell metacharacter refuses the hook.
TEST(VarExpandShell, UnsafeValuesRefused)
{
    const std::vector<std::string> bads{"a b", "a'b",  "a\"b", "a`b",   "$x",   "a\\b", "a;b",
                                        "a&b", "a|b",  "a<b",  "a>b",   "(a",   "a)",   "a*",
                                        "a?",  "[a",   "a]",   "#a",    "!a",   "~a",   "{a",
                                        "a}",  "a\tb", "a\nb", "a\x7f", "a\x01"};
    for (const std::string& bad : bads) {
        auto vars = env({{"RSYNC_USER_NAME", bad}});
        auto r = expand_vars_for_shell("hook %RSYNC_USER_NAME%", vars);
        ASSERT_TRUE(std::holds_alternative<UnsafeShellValue>(r)) << bad;
        EXPECT_EQ(std::get<UnsafeShellValue>(r).variable, "RSYNC_USER_NAME");
    }
    auto ok = env({{"RSYNC_USER_NAME", "a.b-c_d@e+f:g,h=i%j/k"}});
    EXPECT_EQ(std::get<std::string>(expand_vars_for_shell("hook %RSYNC_USER_NAME%", ok)),
              "hook 'a.b-c_d@e+f:g,h=i%j/k'");
}

// Verifies that the unsafe check applies to RSYNC_* values only.
TEST(VarExpandShell, UnsafeCheckOnlyForRsyncVars)
{
    auto vars = env({{"OTHER", "a b;c"}});
    EXPECT_EQ(std::get<std::string>(expand_vars_for_shell("x %OTHER%", vars)), "x a b;c");
}

} // namespace
} // namespace ocr::daemon
