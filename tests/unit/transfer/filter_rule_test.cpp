// SPDX-License-Identifier: MIT
// Tests of the filter rule tokenizer: prefixes, modifiers, modes and upstream's errors.
#include "transfer/filter_error.hpp"
#include "transfer/filter_rule.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ocr::transfer {
namespace {

using namespace rule_flag;

struct Tok {
    RuleFlags flags;
    std::string pattern;
};

std::vector<Tok> tokens(std::string_view text, RuleFlags tmpl = 0, XFlags xflags = 0,
                        RuleTokenContext ctx = {})
{
    std::vector<Tok> out;
    std::size_t pos = 0;
    while (auto t = parse_rule_token(text, pos, tmpl, xflags, ctx))
        out.push_back({t->flags, std::string(t->pattern)});
    return out;
}

Tok one(std::string_view text, RuleFlags tmpl = 0, XFlags xflags = 0)
{
    auto all = tokens(text, tmpl, xflags);
    EXPECT_EQ(all.size(), 1u) << text;
    return all.empty() ? Tok{} : all.front();
}

/// The text and exit code of the FilterError parsing @p text throws ("" when none).
std::pair<std::string, int> error_of(std::string_view text, RuleFlags tmpl = 0, XFlags xflags = 0,
                                     RuleTokenContext ctx = {})
{
    try {
        (void)tokens(text, tmpl, xflags, ctx);
    } catch (const FilterError& e) {
        return {e.what(), protocol::to_int(e.code())};
    }
    return {"", 0};
}

// Verifies that every short rule character maps to upstream's include/side flags.
TEST(FilterRule, ShortPrefixes)
{
    EXPECT_EQ(one("- foo").flags, 0u);
    EXPECT_EQ(one("+ foo").flags, Include);
    EXPECT_EQ(one("H foo").flags, SenderSide);
    EXPECT_EQ(one("S foo").flags, Include | SenderSide);
    EXPECT_EQ(one("P foo").flags, ReceiverSide);
    EXPECT_EQ(one("R foo").flags, Include | ReceiverSide);
    EXPECT_EQ(one(". foo").flags, MergeFile);
    EXPECT_EQ(one(": foo").flags, MergeFile | PerDirMerge | FinishSetup);
    EXPECT_EQ(one("!").flags, ClearList);
    EXPECT_EQ(one("- foo").pattern, "foo");
}

// Verifies that long rule names need a following space, '_', ',' or the end.
TEST(FilterRule, LongNames)
{
    EXPECT_EQ(one("exclude foo").flags, 0u);
    EXPECT_EQ(one("include foo").flags, Include);
    EXPECT_EQ(one("hide foo").flags, SenderSide);
    EXPECT_EQ(one("show foo").flags, Include | SenderSide);
    EXPECT_EQ(one("protect foo").flags, ReceiverSide);
    EXPECT_EQ(one("risk foo").flags, Include | ReceiverSide);
    EXPECT_EQ(one("merge foo").flags, MergeFile);
    EXPECT_EQ(one("dir-merge foo").flags, MergeFile | PerDirMerge | FinishSetup);
    EXPECT_EQ(one("clear").flags, ClearList);
    EXPECT_EQ(one("exclude_foo").pattern, "foo");
    EXPECT_EQ(one("exclude,/ foo").flags, AbsPath);
    EXPECT_EQ(error_of("exclusive foo").first, "Unknown filter rule: exclusive foo");
    EXPECT_EQ(error_of("e foo").first, "Unknown filter rule: e foo");
    EXPECT_EQ(error_of("dir-mergex foo").first, "Unknown filter rule: dir-mergex foo");
    EXPECT_EQ(error_of("x foo").second, 1);
}

// Verifies that the pattern starts after exactly one space or underscore, keeping the rest.
TEST(FilterRule, PatternSeparator)
{
    EXPECT_EQ(one("-  foo").pattern, " foo");
    EXPECT_EQ(one("-_foo").pattern, "foo");
    EXPECT_EQ(one("-__foo").pattern, "_foo");
    EXPECT_EQ(one("- foo bar ").pattern, "foo bar ");
    EXPECT_EQ(one("+,s foo").flags, Include | SenderSide);
}

// Verifies each modifier and the places upstream refuses it, with upstream's message.
TEST(FilterRule, Modifiers)
{
    EXPECT_EQ(one("-/ foo").flags, AbsPath);
    EXPECT_EQ(one("-! foo").flags, Negate);
    EXPECT_EQ(one("-C").flags, NoPrefixes | WordSplit | NoInherit | CvsIgnore);
    EXPECT_EQ(one("-p foo").flags, Perishable);
    EXPECT_EQ(one("-x foo").flags, Xattr);
    EXPECT_EQ(one("-s foo").flags, SenderSide);
    EXPECT_EQ(one("-r foo").flags, ReceiverSide);
    EXPECT_EQ(one("-sr foo").flags, Sides);
    EXPECT_EQ(one(":n- .x").flags, MergeFile | PerDirMerge | FinishSetup | NoInherit | NoPrefixes);
    EXPECT_EQ(one(".+ x").flags, MergeFile | NoPrefixes | Include);
    EXPECT_EQ(one(":e x").flags, MergeFile | PerDirMerge | FinishSetup | ExcludeSelf);
    EXPECT_EQ(one(".w x").flags, MergeFile | WordSplit);

    EXPECT_EQ(error_of("-foo"), (std::pair<std::string, int>{
                                    "invalid modifier 'f' at position 1 in filter rule: -foo", 1}));
    EXPECT_EQ(error_of("H,r foo").first,
              "invalid modifier 'r' at position 2 in filter rule: H,r foo");
    EXPECT_EQ(error_of("Pr foo").first,
              "invalid modifier 'r' at position 1 in filter rule: Pr foo");
    EXPECT_EQ(error_of("-n foo").first,
              "invalid modifier 'n' at position 1 in filter rule: -n foo");
    EXPECT_EQ(error_of("-e foo").first,
              "invalid modifier 'e' at position 1 in filter rule: -e foo");
    EXPECT_EQ(error_of("-w foo").first,
              "invalid modifier 'w' at position 1 in filter rule: -w foo");
    EXPECT_EQ(error_of("-+ foo").first,
              "invalid modifier '+' at position 1 in filter rule: -+ foo");
    EXPECT_EQ(error_of(":! foo").first,
              "invalid modifier '!' at position 1 in filter rule: :! foo");
    EXPECT_EQ(error_of(":-+ x").first, "invalid modifier '+' at position 2 in filter rule: :-+ x");
    EXPECT_EQ(error_of(":-C x").first, "invalid modifier 'C' at position 2 in filter rule: :-C x");
    EXPECT_EQ(error_of("HC x").first, "invalid modifier 'C' at position 1 in filter rule: HC x");
    EXPECT_EQ(error_of("include,Z x").first,
              "invalid modifier 'Z' at position 8 in filter rule: include,Z x");
}

// Verifies the "!"/clear rules and the end-of-rule errors.
TEST(FilterRule, ClearAndMissingPattern)
{
    EXPECT_EQ(error_of("! ").first, "'!' rule has trailing characters: ! ");
    EXPECT_EQ(error_of("clear ").first, "'!' rule has trailing characters: clear ");
    EXPECT_EQ(error_of("!x").first, "'!' rule has trailing characters: !x");
    EXPECT_EQ(error_of("-").first, "unexpected end of filter rule: -");
    EXPECT_EQ(error_of("exclude").first, "unexpected end of filter rule: exclude");
    EXPECT_EQ(error_of("- ").first, "unexpected end of filter rule: - ");
    EXPECT_EQ(error_of(":").first, "unexpected end of filter rule: :");
    EXPECT_EQ(error_of("-!").first, "unexpected end of filter rule: -!");
    // A CVS rule needs no name; its pattern (if any) is swallowed.
    EXPECT_EQ(one(":C").pattern, "");
    EXPECT_EQ(one("-C foo").pattern, "foo");
}

// Verifies the --exclude/--include mode: only "- ", "+ " and a lone "!" are special.
TEST(FilterRule, OldPrefixes)
{
    const XFlags old = xflag::OldPrefixes;
    EXPECT_EQ(one("foo", 0, old).pattern, "foo");
    EXPECT_EQ(one("+ foo", 0, old).flags, Include);
    EXPECT_EQ(one("- foo", Include, old).flags, 0u);
    EXPECT_EQ(one("exclude foo", Include, old).pattern, "exclude foo");
    EXPECT_EQ(one(": foo", 0, old).pattern, ": foo");
    EXPECT_EQ(one("!", 0, old).flags, ClearList);
    EXPECT_EQ(one("!foo", 0, old).pattern, "!foo");
    EXPECT_EQ(one("!foo", 0, old).flags & ClearList, 0u);
    EXPECT_EQ(one("- !", 0, old).pattern, "!");
    EXPECT_EQ(error_of("- ", 0, old).first, "unexpected end of filter rule: - ");
}

// Verifies word splitting: white space separates rules but the prefix's space is special.
TEST(FilterRule, WordSplit)
{
    const auto t = tokens("  - foo + bar\t-C  ", WordSplit);
    ASSERT_EQ(t.size(), 3u);
    EXPECT_EQ(t[0].pattern, "foo");
    EXPECT_EQ(t[1].flags, Include);
    EXPECT_EQ(t[1].pattern, "bar");
    EXPECT_TRUE(t[2].flags & CvsIgnore);
    // Without a prefix a word is a rule name, so a bare pattern is an error.
    EXPECT_EQ(error_of("- foo baz", WordSplit).first, "Unknown filter rule: baz");
    EXPECT_EQ(error_of("-\tfoo", WordSplit).first, "unexpected end of filter rule: -\tfoo");
    EXPECT_EQ(tokens(" \t ", WordSplit).size(), 0u);
}

// Verifies prefix-less templates (merge "-", "+" and CVS files) and their "!" handling.
TEST(FilterRule, NoPrefixTemplates)
{
    EXPECT_EQ(one("- foo", NoPrefixes).pattern, "- foo");
    EXPECT_EQ(one("foo", NoPrefixes | Include).flags, Include);
    EXPECT_EQ(one("!", NoPrefixes).pattern, "!");
    const RuleFlags cvs = NoPrefixes | WordSplit | NoInherit | CvsIgnore;
    EXPECT_EQ(one("!", cvs).flags, ClearList);
    EXPECT_EQ(one("!x", cvs).pattern, "!x");
    EXPECT_EQ(one("!x", cvs).flags & ClearList, 0u);
}

// Verifies that a merge rule's side applies to its rules and a side in both is refused.
TEST(FilterRule, TemplateSides)
{
    EXPECT_EQ(one("- foo", SenderSide).flags, SenderSide);
    EXPECT_EQ(one("foo", NoPrefixes | ReceiverSide).flags, ReceiverSide);
    EXPECT_EQ(error_of("H foo", SenderSide).first,
              "specified-side merge file contains specified-side filter: H foo");
    EXPECT_EQ(error_of("-r foo", ReceiverSide).first,
              "specified-side merge file contains specified-side filter: -r foo");
}

// Verifies what a rule inherits from its merge rule, and that file text is marked.
TEST(FilterRule, TemplateInheritance)
{
    EXPECT_EQ(one("- foo", AbsPath | Negate | Perishable | MergeFile | WordSplit).flags,
              AbsPath | Negate | Perishable);
    RuleTokenContext ctx;
    ctx.in_file = true;
    ctx.redacted_text = "<rule from F line 2>";
    std::size_t pos = 0;
    EXPECT_EQ(parse_rule_token("- foo", pos, 0, 0, ctx)->flags, FromFile);
}

// Verifies that a rule read from a file is never echoed in an error (upstream 3.5.0).
TEST(FilterRule, FileTextIsRedacted)
{
    RuleTokenContext ctx;
    ctx.in_file = true;
    ctx.redacted_text = "<rule from /a/.rules line 3>";
    EXPECT_EQ(error_of("secret-line", 0, 0, ctx).first,
              "Unknown filter rule: <rule from /a/.rules line 3>");
    EXPECT_EQ(error_of("-q secret", 0, 0, ctx).first,
              "invalid modifier in filter rule: <rule from /a/.rules line 3>");
}

// Verifies --delete-excluded: unmodified includes/excludes become sender-side only.
TEST(FilterRule, DeleteExcluded)
{
    RuleTokenContext ctx;
    ctx.delete_excluded = true;
    std::size_t pos = 0;
    EXPECT_EQ(parse_rule_token("- foo", pos, 0, 0, ctx)->flags, SenderSide);
    pos = 0;
    EXPECT_EQ(parse_rule_token("P foo", pos, 0, 0, ctx)->flags, ReceiverSide);
    pos = 0;
    EXPECT_EQ(parse_rule_token(": .f", pos, 0, 0, ctx)->flags & Sides, 0u);
}

// Verifies that text after a NUL byte is invisible, as in upstream's C strings.
TEST(FilterRule, NulEndsTheText)
{
    const std::string text("- foo\0+ bar", 11);
    const auto t = tokens(text);
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].pattern, "foo");
    EXPECT_EQ(tokens(std::string("\0- x", 4)).size(), 0u);
}

// Verifies that a pattern ending in a lone backslash is kept byte for byte (CVE-2026-70461
// was an off-by-one when such a pattern was copied).
TEST(FilterRule, TrailingBackslash)
{
    EXPECT_EQ(one("- trail\\").pattern, "trail\\");
    EXPECT_EQ(one("- \\").pattern, "\\");
    EXPECT_EQ(tokens("- a\\ + b\\", WordSplit).at(1).pattern, "b\\");
}

// Verifies that rule_prefix() output parses back to the same flags.
TEST(FilterRule, PrefixRoundTrip)
{
    const std::vector<RuleFlags> all = {0,
                                        Include,
                                        AbsPath | Negate,
                                        SenderSide | Perishable,
                                        Include | ReceiverSide | Xattr,
                                        Sides,
                                        MergeFile | PerDirMerge | NoInherit | NoPrefixes,
                                        MergeFile | PerDirMerge | NoPrefixes | Include
                                            | ExcludeSelf,
                                        MergeFile | PerDirMerge | WordSplit | SenderSide,
                                        MergeFile | NoPrefixes | WordSplit | NoInherit | CvsIgnore};
    for (const RuleFlags f : all) {
        const std::string text = rule_prefix(f) + "pat";
        std::size_t pos = 0;
        const auto t = parse_rule_token(text, pos, 0, 0, {});
        ASSERT_TRUE(t) << text;
        EXPECT_EQ(t->flags & ~FinishSetup, f) << text;
        EXPECT_EQ(t->pattern, "pat") << text;
    }
}

} // namespace
} // namespace ocr::transfer
