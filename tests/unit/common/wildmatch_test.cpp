// SPDX-License-Identifier: MIT
// Tests of ocr::wildmatch against rsync's wildcard rules, including hostile patterns.
#include "common/wildmatch.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace ocr {
namespace {

struct Case {
    const char* pattern;
    const char* text;
    bool match;
};

void expect_cases(const std::vector<Case>& cases, WildCase wc)
{
    for (const Case& c : cases) {
        EXPECT_EQ(wildmatch(c.pattern, c.text, wc), c.match)
            << "pattern [" << c.pattern << "] text [" << c.text << "]";
    }
}

// Verifies that plain characters must match exactly and completely.
TEST(Wildmatch, Literals)
{
    expect_cases({
                     {"abc", "abc", true},
                     {"abc", "abd", false},
                     {"abc", "ab", false},
                     {"ab", "abc", false},
                     {"", "", true},
                     {"", "a", false},
                     {"a", "", false},
                     {"/usr/lib", "/usr/lib", true},
                     {"@host", "@host", true},
                     {"]", "]", true},
                     {"-", "-", true},
                 },
                 WildCase::Sensitive);
}

// Verifies that '?' matches exactly one character and never '/'.
TEST(Wildmatch, QuestionMark)
{
    expect_cases({
                     {"a?c", "abc", true},
                     {"a?c", "a/c", false},
                     {"a?c", "ac", false},
                     {"???", "ab", false},
                     {"???", "xyz", true},
                     {"?", "/", false},
                     {"?*", "x", true},
                     {"?*", "", false},
                 },
                 WildCase::Sensitive);
}

// Verifies that a single '*' matches any run (also empty) that contains no '/'.
TEST(Wildmatch, SingleStar)
{
    expect_cases({
                     {"*", "", true},
                     {"*", "anything", true},
                     {"*", "dir/file", false},
                     {"*.c", "main.c", true},
                     {"*.c", "src/main.c", false},
                     {"src/*.c", "src/main.c", true},
                     {"src/*.c", "src/sub/main.c", false},
                     {"a*b*c", "axxbyyc", true},
                     {"a*b*c", "axxbyy", false},
                     {"a*b*c", "abcabc", true},
                     {"*z", "abc", false},
                     {"a*", "a", true},
                     {"*a", "a", true},
                     {"*/", "dir/", true},
                     {"*/*", "a/b", true},
                     {"*/*", "a/b/c", false},
                     {"*/foo", "bar/baz/foo", false},
                     {"foo*", "foo/bar", false},
                     {"x*y*z", "x/y/z", false},
                     {"*ab", "aaaabababab", true},
                 },
                 WildCase::Sensitive);
}

// Verifies that two or more stars match across '/' and how they combine with single stars.
TEST(Wildmatch, DoubleStar)
{
    expect_cases({
                     {"**", "a/b/c", true},
                     {"**", "", true},
                     {"***", "x/y", true},
                     {"a/**", "a/b/c", true},
                     {"a/**", "a/", true},
                     {"a/**", "a", false},
                     {"**/c", "a/b/c", true},
                     {"**/c", "/c", true},
                     {"**/c", "c", false},
                     {"**c", "a/b/c", true},
                     {"a**z", "a/b/z", true},
                     {"foo**", "foo/bar", true},
                     {"a/**/b", "a/b", false},
                     {"a/**/b", "a/x/y/b", true},
                     {"**/lib/*", "usr/local/lib/x.so", true},
                     {"**/lib/*", "usr/lib/sub/x.so", false},
                     {"**/lib/**", "usr/lib/sub/x.so", true},
                     {"*/lib/**", "usr/lib/sub/x.so", true},
                     {"*/lib/**", "usr/local/lib/x", false},
                     {"**/src*", "a/src/b", false},
                     {"**/*x*y", "p/q/axby", true},
                     {"**/*x*y", "p/q/axby/z", false},
                     {"**/a/*/*", "r/a/b/c", true},
                     {"**/a/*/*", "r/a/b/c/d", false},
                 },
                 WildCase::Sensitive);
}

// Verifies that a backslash makes the next character literal and a trailing one never matches.
TEST(Wildmatch, Backslash)
{
    expect_cases({
                     {"foo\\*", "foo*", true},
                     {"foo\\*", "foox", false},
                     {"foo\\*bar", "foo*bar", true},
                     {"foo\\*bar", "fooxbar", false},
                     {"\\?", "?", true},
                     {"\\?", "x", false},
                     {"\\\\", "\\", true},
                     {"\\a\\b", "ab", true},
                     {"\\[x]", "[x]", true},
                     {"a\\", "a", false},
                     {"a\\", "a\\", false},
                     {"\\", "", false},
                     {"*\\", "x\\", false},
                     {"*/\\\\", "d/\\", true},
                 },
                 WildCase::Sensitive);
}

// Verifies that bracket classes handle sets, negation, ranges, escapes and ']' / '-' members.
TEST(Wildmatch, Classes)
{
    expect_cases({
                     {"[abc]", "b", true},
                     {"[abc]", "d", false},
                     {"[abc]", "ab", false},
                     {"[!abc]", "d", true},
                     {"[^abc]", "a", false},
                     {"[a-c]x", "bx", true},
                     {"[a-c]", "d", false},
                     {"[!a-c]", "d", true},
                     {"[!a-c]", "/", false},
                     {"[/]", "/", false},
                     {"x[!y]z", "x/z", false},
                     {"[]]", "]", true},
                     {"[]a]", "a", true},
                     {"[!]]", "]", false},
                     {"[!]]", "x", true},
                     {"[-a]", "-", true},
                     {"[a-]", "-", true},
                     {"[a-]", "b", false},
                     {"[--/]", ".", true},
                     {"[--/]", "0", false},
                     {"[\\]]", "]", true},
                     {"[\\-]", "-", true},
                     {"[a\\-z]", "b", false},
                     {"[a\\-z]", "-", true},
                     {"[a\\-z]", "z", true},
                     {"[a-\\z]", "m", true},
                     {"[\\a-c]", "b", true},
                     {"[z-a]", "m", false},
                     // 'z' is a member in its own right before it starts the (empty) range.
                     {"[z-a]", "z", true},
                     {"[z-a]", "a", false},
                     {"[a-c-e]", "d", false},
                     {"[a-c-e]", "-", true},
                     {"[a-c-e]", "e", true},
                     {"[]-b]", "a", true},
                     {"[]-b]", "]", true},
                     {"[]-b]", "c", false},
                     {"[x^]", "^", true},
                     {"[!-]", "-", false},
                     {"[!-]", "+", true},
                 },
                 WildCase::Sensitive);
}

// Verifies that [:name:] classes match their ASCII sets and that "[:" without ":]" is literal.
TEST(Wildmatch, NamedClasses)
{
    expect_cases({
                     {"[[:digit:]]", "7", true},
                     {"[[:digit:]]", "x", false},
                     {"[[:alpha:][:digit:]]", "Q", true},
                     {"[[:alpha:][:digit:]]", "-", false},
                     {"[![:space:]]", " ", false},
                     {"[![:space:]]", "x", true},
                     {"[[:space:]]", "\v", true},
                     {"[[:upper:]]", "A", true},
                     {"[[:lower:]]", "A", false},
                     {"[[:xdigit:]]", "F", true},
                     {"[[:xdigit:]]", "g", false},
                     {"[[:punct:]]", "!", true},
                     {"[[:punct:]]", "a", false},
                     {"[[:blank:]]", "\t", true},
                     {"[[:blank:]]", "\n", false},
                     {"[[:cntrl:]]", "\x01", true},
                     {"[[:cntrl:]]", "\x7f", true},
                     {"[[:graph:]]", " ", false},
                     {"[[:graph:]]", "~", true},
                     {"[[:print:]]", " ", true},
                     {"[[:alnum:]]", "_", false},
                     {"[[:alpha:]]", "\xe9", false},
                     {"[[:digit:]a-c]", "b", true},
                     {"[a-c[:digit:]x-z]", "y", true},
                     {"[a-c[:digit:]x-z]", "m", false},
                     // "[:" with no ":]" before the next ']' is an ordinary '['.
                     {"[[:]x]", "[x]", true},
                     {"[[:]x]", ":x]", true},
                     {"[[:foo]", "f", true},
                     {"[[:foo]", "[", true},
                     {"[[:foo]", "x", false},
                 },
                 WildCase::Sensitive);
}

// Verifies that a malformed class makes the whole match fail, wherever it is reached.
TEST(Wildmatch, MalformedClassesNeverMatch)
{
    expect_cases({
                     {"[[:bogus:]]", "a", false},
                     {"*[[:bogus:]]", "abc", false},
                     {"[[::]]", ":", false},
                     {"[abc", "a", false},
                     {"[abc", "[abc", false},
                     {"[", "[", false},
                     {"a[", "a[", false},
                     {"[!", "!", false},
                     {"[\\", "\\", false},
                     {"[a-\\", "a", false},
                     {"[[:alpha:]", "a", false},
                     {"[[:alpha", "[", false},
                     {"**[x", "a/b[x", false},
                 },
                 WildCase::Sensitive);
}

// Verifies that Insensitive folds both the text and the pattern (upstream 3.5.0 fix), including
// class members and ranges.
TEST(Wildmatch, CaseInsensitiveFoldsBothSides)
{
    expect_cases({
                     {"ABC", "abc", true},
                     {"abc", "ABC", true},
                     {"*.EXAMPLE.org", "host.example.ORG", true},
                     {"*.bad.example", "X.BAD.EXAMPLE", true},
                     {"[A-F]1", "c1", true},
                     {"[a-f]1", "C1", true},
                     {"[XYZ]", "y", true},
                     {"[\\Q]", "q", true},
                     {"[!A]", "a", false},
                     {"\\A", "a", true},
                     {"[[:lower:]]", "A", true},
                     // The text is folded before the class test, so [:upper:] cannot match.
                     {"[[:upper:]]", "A", false},
                     {"abc", "abd", false},
                 },
                 WildCase::Insensitive);
    expect_cases({
                     {"ABC", "abc", false},
                     {"[A-F]", "c", false},
                     {"*.EXAMPLE.org", "host.example.org", false},
                 },
                 WildCase::Sensitive);
}

// Verifies that pattern and text end at their first NUL byte, as upstream's C strings do.
TEST(Wildmatch, NulEndsPatternAndText)
{
    EXPECT_TRUE(wildmatch("abc", std::string_view("abc\0def", 7)));
    EXPECT_TRUE(wildmatch(std::string_view("ab\0x", 4), "ab"));
    EXPECT_FALSE(wildmatch(std::string_view("ab\0x", 4), "abx"));
}

// Verifies that pieces are matched as if concatenated, with empty pieces skipped and no pieces
// meaning no match.
TEST(Wildmatch, Pieces)
{
    const std::vector<std::string_view> path{"dir/", "file.c"};
    EXPECT_FALSE(wildmatch_pieces("*.c", path));
    EXPECT_TRUE(wildmatch_pieces("*/*.c", path));
    EXPECT_TRUE(wildmatch_pieces("dir/file.c", path));
    EXPECT_TRUE(wildmatch_pieces("dir/f?le.*", path));
    EXPECT_TRUE(wildmatch_pieces("**.c", path));
    const std::vector<std::string_view> with_empty{"a", "", "b", ""};
    EXPECT_TRUE(wildmatch_pieces("ab", with_empty));
    EXPECT_FALSE(wildmatch_pieces("a", with_empty));
    EXPECT_FALSE(wildmatch_pieces("", std::span<const std::string_view>{}));
    const std::vector<std::string_view> one_empty{""};
    EXPECT_TRUE(wildmatch_pieces("", one_empty));
    EXPECT_TRUE(wildmatch_pieces("*", one_empty));
    const std::vector<std::string_view> with_nul{std::string_view("ab\0zz", 5), "c"};
    EXPECT_TRUE(wildmatch_pieces("abc", with_nul));
    const std::vector<std::string_view> upper{"DIR/", "File"};
    EXPECT_TRUE(wildmatch_pieces("dir/f*", upper, WildCase::Insensitive));
    EXPECT_FALSE(wildmatch_pieces("dir/f*", upper));
}

// Verifies that one compiled WildPattern gives the same answers across many texts.
TEST(Wildmatch, CompiledPatternIsReusable)
{
    const WildPattern pat("*.[ch]");
    EXPECT_TRUE(pat.matches("x.c"));
    EXPECT_TRUE(pat.matches("y.h"));
    EXPECT_FALSE(pat.matches("z.o"));
    EXPECT_FALSE(pat.matches("d/x.c"));
    EXPECT_TRUE(pat.matches("x.c"));
}

template <typename F>
double seconds_for(F&& f)
{
    const auto start = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Verifies that patterns built to make backtracking matchers explode finish quickly with the
// right answer.
TEST(Wildmatch, PathologicalPatternsStayFast)
{
    const std::string many_a(100000, 'a');
    double t = seconds_for([&] { EXPECT_FALSE(wildmatch("*a*a*a*a*a*a*b", many_a)); });
    EXPECT_LT(t, 2.0);
    t = seconds_for([&] { EXPECT_TRUE(wildmatch("*a*a*a*a*a*a*a", many_a)); });
    EXPECT_LT(t, 2.0);

    std::string stars;
    for (int i = 0; i < 1000; ++i)
        stars += "*a";
    t = seconds_for([&] { EXPECT_FALSE(wildmatch(stars + "b", std::string(2000, 'a'))); });
    EXPECT_LT(t, 2.0);
    t = seconds_for([&] { EXPECT_TRUE(wildmatch(stars + "*", std::string(2000, 'a'))); });
    EXPECT_LT(t, 2.0);

    std::string slashes;
    for (int i = 0; i < 1000; ++i)
        slashes += "a/";
    std::string mixed = "**";
    for (int i = 0; i < 300; ++i)
        mixed += "*a/**";
    t = seconds_for([&] { EXPECT_FALSE(wildmatch(mixed + "b", slashes)); });
    EXPECT_LT(t, 2.0);
    t = seconds_for([&] { EXPECT_TRUE(wildmatch(mixed, slashes)); });
    EXPECT_LT(t, 2.0);
}

} // namespace
} // namespace ocr
