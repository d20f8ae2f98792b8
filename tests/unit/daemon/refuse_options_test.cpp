// SPDX-License-Identifier: MIT
// Tests for "refuse options" matching (upstream set_refuse_options semantics).
#include "daemon/refuse_options.hpp"

#include "daemon/option_table.hpp"

#include <gtest/gtest.h>

using namespace ocr::daemon;

namespace {

std::size_t row_of(std::string_view long_name)
{
    const auto r = find_long_option(long_name);
    EXPECT_TRUE(r) << long_name;
    return r.value_or(0);
}

} // namespace

// Verifies that the option table has upstream's 258 rows in order and that lookups are exact.
TEST(OptionTable, ShapeAndLookup)
{
    const auto t = option_table();
    ASSERT_EQ(t.size(), 258u);
    EXPECT_EQ(t[0].long_name, "help");
    EXPECT_EQ(t[68].short_name, 'D');
    EXPECT_TRUE(t[68].long_name.empty());
    EXPECT_EQ(t[131].long_name, "delete-missing-args");
    EXPECT_EQ(t[131].kind, ArgKind::BitSet);
    EXPECT_EQ(t[257].long_name, "no-detach");
    EXPECT_EQ(find_long_option("verbose"), 2u);
    EXPECT_FALSE(find_long_option("verb"));
    EXPECT_FALSE(find_long_option(""));
    EXPECT_EQ(find_short_option('e'), 226u);
    EXPECT_FALSE(find_short_option('j'));
    EXPECT_TRUE(t[*find_long_option("log-format")].refuse_exact_only);
    EXPECT_FALSE(t[*find_long_option("out-format")].refuse_exact_only);
    EXPECT_EQ(info_words().size(), 13u);
    EXPECT_EQ(debug_words().size(), 24u);
}

// Verifies that a daemon with an empty "refuse options" refuses what Debian's build refuses.
TEST(RefuseOptions, Defaults)
{
    const RefuseSet s = parse_refuse_options("");
    EXPECT_TRUE(s.is_refused("copy-devices"));
    EXPECT_TRUE(s.is_refused("write-devices"));
    EXPECT_TRUE(s.is_refused("log-file"));
    EXPECT_TRUE(s.is_refused("log-file-format"));
    EXPECT_TRUE(s.is_refused("insecure-links"));
    EXPECT_TRUE(s.is_refused("iconv"));
    EXPECT_TRUE(s.is_refused("crtimes"));
    EXPECT_FALSE(s.is_refused("no-crtimes"));
    EXPECT_FALSE(s.is_refused("no-write-devices"));
    EXPECT_FALSE(s.is_refused("verbose"));
    EXPECT_FALSE(s.is_refused("atimes"));
    EXPECT_TRUE(s.unmatched.empty());

    RefuseContext with_charset;
    with_charset.charset_set = true;
    EXPECT_FALSE(parse_refuse_options("", with_charset).is_refused("iconv"));
}

// Verifies that "!name" can accept the default device refusals but not the later ones.
TEST(RefuseOptions, NegationOrder)
{
    const RefuseSet s = parse_refuse_options(
        "!copy-devices !write-devices !log-file !insecure-links !iconv !crtimes");
    EXPECT_FALSE(s.is_refused("copy-devices"));
    EXPECT_FALSE(s.is_refused("write-devices"));
    EXPECT_TRUE(s.is_refused("log-file"));
    EXPECT_TRUE(s.is_refused("insecure-links"));
    EXPECT_TRUE(s.is_refused("iconv"));
    EXPECT_TRUE(s.is_refused("crtimes"));
    EXPECT_TRUE(parse_refuse_options("!v v").is_refused_short('v'));
    EXPECT_FALSE(parse_refuse_options("v !v").is_refused_short('v'));
}

// Verifies that an exact word refuses every spelling of the same capability.
TEST(RefuseOptions, SameCapability)
{
    const RefuseSet del = parse_refuse_options("del");
    EXPECT_TRUE(del.is_refused("del"));
    EXPECT_TRUE(del.is_refused("delete-during"));
    EXPECT_FALSE(del.is_refused("delete-delay"));
    EXPECT_EQ(del.delete_during, row_of("delete-during"));

    const RefuseSet cc = parse_refuse_options("cc");
    EXPECT_TRUE(cc.is_refused("checksum-choice"));

    const RefuseSet of = parse_refuse_options("out-format");
    EXPECT_TRUE(of.is_refused("log-format"));

    const RefuseSet ex = parse_refuse_options("existing");
    EXPECT_TRUE(ex.is_refused("ignore-non-existing"));

    // Same action code: --daemon, --detach and --no-detach; --config takes an argument.
    const RefuseSet d = parse_refuse_options("daemon");
    EXPECT_TRUE(d.is_refused("detach"));
    EXPECT_TRUE(d.is_refused("no-detach"));
    EXPECT_FALSE(d.is_refused("config"));

    // Opposite switches stay apart.
    const RefuseSet r = parse_refuse_options("r");
    EXPECT_TRUE(r.is_refused("recursive"));
    EXPECT_FALSE(r.is_refused("no-r"));

    // Bit-set rows only match themselves.
    const RefuseSet m = parse_refuse_options("delete-missing-args");
    EXPECT_TRUE(m.is_refused("delete-missing-args"));
    EXPECT_FALSE(m.is_refused("ignore-missing-args"));
}

// Verifies that wildcards match names and short letters but never the exact-only rows.
TEST(RefuseOptions, Wildcards)
{
    const RefuseSet all = parse_refuse_options("*");
    for (std::string_view exact : {"rsh", "from0", "secluded-args", "dry-run", "iconv", "no-iconv",
                                   "checksum-seed", "log-format", "sender", "server"}) {
        if (exact == "iconv")
            continue; // refused anyway: no charset
        EXPECT_FALSE(all.is_refused(exact)) << exact;
    }
    EXPECT_TRUE(all.is_refused("out-format"));
    EXPECT_TRUE(all.is_refused("verbose"));
    EXPECT_TRUE(all.is_refused_short('D'));
    EXPECT_TRUE(all.is_refused_short('P'));
    EXPECT_TRUE(all.is_refused_short('F'));

    const RefuseSet q = parse_refuse_options("?");
    EXPECT_TRUE(q.is_refused_short('l'));
    EXPECT_TRUE(q.is_refused("compress")); // through its short name -z
    EXPECT_FALSE(q.is_refused("zc"));      // two-letter long names do not match '?'
    EXPECT_FALSE(q.is_refused("compress-level"));

    const RefuseSet logs = parse_refuse_options("log-*");
    EXPECT_FALSE(logs.is_refused("log-format"));

    const RefuseSet dels = parse_refuse_options("delete-*");
    EXPECT_TRUE(dels.is_refused("delete-before"));
    EXPECT_TRUE(dels.is_refused("delete-missing-args"));
    EXPECT_FALSE(dels.is_refused("delete"));
}

// Verifies that "a"/"archive" refuse -a and each of -rdlptgoD, and which row -a reports.
TEST(RefuseOptions, Archive)
{
    const RefuseSet a = parse_refuse_options("a");
    for (char c : std::string_view("ardlptgoD"))
        EXPECT_TRUE(a.is_refused_short(c)) << c;
    EXPECT_FALSE(a.is_refused("no-r"));
    EXPECT_FALSE(a.is_refused("devices"));
    ASSERT_TRUE(a.archive_part);
    EXPECT_EQ(*a.archive_part, row_of("links")); // the last such row in table order
    EXPECT_TRUE(parse_refuse_options("archive").is_refused_short('D'));
}

// Verifies that the value splits on spaces only and that unmatched words are listed.
TEST(RefuseOptions, SplittingAndUnmatched)
{
    const RefuseSet s = parse_refuse_options("  v\tz  no-such  ! !!x ");
    EXPECT_FALSE(s.is_refused_short('v'));
    EXPECT_FALSE(s.is_refused_short('z'));
    EXPECT_EQ(s.unmatched, (std::vector<std::string>{"v\tz", "no-such", "!", "!x"}));
    EXPECT_TRUE(parse_refuse_options("  v  ").is_refused_short('v'));
}

// Verifies that the implied-refusal rows the parser needs are recorded.
TEST(RefuseOptions, ImpliedRows)
{
    const RefuseSet s =
        parse_refuse_options("delete delete-before partial progress inplace no-iconv compress");
    EXPECT_EQ(s.delete_, row_of("delete"));
    EXPECT_EQ(s.delete_before, row_of("delete-before"));
    EXPECT_FALSE(s.delete_during);
    EXPECT_EQ(s.partial, row_of("partial"));
    EXPECT_EQ(s.progress, row_of("progress"));
    EXPECT_EQ(s.inplace, row_of("inplace"));
    EXPECT_EQ(s.no_iconv, row_of("no-iconv"));
    EXPECT_EQ(s.compress, row_of("compress"));
    EXPECT_FALSE(s.archive_part);
}

// Verifies that missing build features add refusals.
TEST(RefuseOptions, BuildFeatures)
{
    RefuseContext ctx;
    ctx.charset_set = true;
    ctx.features.atimes = false;
    ctx.features.hard_links = false;
    ctx.features.mktime = false;
    ctx.features.iconv = false;
    ctx.features.setvbuf = false;
    ctx.features.crtimes = true;
    const RefuseSet s = parse_refuse_options("", ctx);
    EXPECT_TRUE(s.is_refused("atimes"));
    EXPECT_TRUE(s.is_refused("link-dest"));
    EXPECT_TRUE(s.is_refused("stop-at"));
    EXPECT_TRUE(s.is_refused("iconv"));
    EXPECT_TRUE(s.is_refused("outbuf"));
    EXPECT_FALSE(s.is_refused("crtimes"));
}

// Verifies that refusal texts match upstream, including the "(null)" of short-only rows.
TEST(RefuseOptions, ErrorText)
{
    EXPECT_EQ(refuse_error_text(row_of("compress")),
              "The server is configured to refuse --compress (-z)");
    EXPECT_EQ(refuse_error_text(row_of("delete")), "The server is configured to refuse --delete");
    EXPECT_EQ(refuse_error_text(*find_short_option('D')),
              "The server is configured to refuse --(null) (-D)");
    EXPECT_EQ(refuse_error_text(9999), "");
}
