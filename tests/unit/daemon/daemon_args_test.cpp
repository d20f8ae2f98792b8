// SPDX-License-Identifier: MIT
// Tests for the daemon argument reader and read_args' string processing.
#include "daemon/daemon_args.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace ocr::daemon;

namespace {

std::string bytes(std::string_view s)
{
    return std::string(s);
}

std::string read_capture(const std::string& name)
{
    std::ifstream in(std::string(OCR_TEST_DATA_DIR) + "/options/captures/" + name + ".bin",
                     std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace

// Verifies that a NUL-terminated batch is returned without its terminator and that bytes
// after the terminator are left unconsumed.
TEST(DaemonArgReader, NulTerminatedBatch)
{
    DaemonArgReader r(true);
    const std::string in = bytes(std::string_view("--server\0-v\0.\0mod/\0\0extra", 25));
    const std::size_t used = r.feed(in);
    EXPECT_EQ(used, 20u);
    ASSERT_TRUE(r.done());
    EXPECT_FALSE(r.error());
    EXPECT_EQ(r.take(), (std::vector<std::string>{"--server", "-v", ".", "mod/"}));
}

// Verifies that feeding one byte at a time gives the same result as one big feed.
TEST(DaemonArgReader, ByteAtATime)
{
    DaemonArgReader r(true);
    const std::string in = bytes(std::string_view("ab\0c\0\0", 6));
    for (char c : in) {
        ASSERT_FALSE(r.done());
        EXPECT_EQ(r.feed(std::string_view(&c, 1)), 1u);
    }
    EXPECT_TRUE(r.done());
    EXPECT_EQ(r.take(), (std::vector<std::string>{"ab", "c"}));
    // Once done, nothing more is consumed.
    EXPECT_EQ(r.feed("more"), 0u);
}

// Verifies that below protocol 30 both LF and CR end an argument, so CRLF ends the list.
TEST(DaemonArgReader, LineModeCrAndLf)
{
    DaemonArgReader r(false);
    r.feed("--server\n-v\r\n.\nmod/\n\n");
    ASSERT_TRUE(r.done());
    EXPECT_EQ(r.take(), (std::vector<std::string>{"--server", "-v"}));

    DaemonArgReader nul(true);
    nul.feed(bytes(std::string_view("a\nb\rc\0\0", 7)));
    ASSERT_TRUE(nul.done());
    EXPECT_EQ(nul.take(), (std::vector<std::string>{"a\nb\rc"}));
}

// Verifies that an over-long argument keeps only the first max_arg_len bytes and the rest of
// it is consumed, not treated as a new argument.
TEST(DaemonArgReader, TruncatesLongArgument)
{
    DaemonArgReader r(true, kMaxDaemonArgs, 4);
    r.feed(bytes(std::string_view("abcdefgh\0xy\0\0", 14)));
    ASSERT_TRUE(r.done());
    EXPECT_EQ(r.take(), (std::vector<std::string>{"abcd", "xy"}));
    EXPECT_EQ(kMaxDaemonArgLen, 5119u);
}

// Verifies that the argv bound holds: with "rsyncd" in front, max_args - 2 arguments fit and one
// more is "too many daemon arguments"; without argv0 one more fits.
TEST(DaemonArgReader, TooManyArguments)
{
    DaemonArgReader ok(true, 5, kMaxDaemonArgLen, 1);
    ok.feed(bytes(std::string_view("a\0b\0c\0\0", 7)));
    EXPECT_TRUE(ok.done());
    EXPECT_FALSE(ok.error());

    DaemonArgReader bad(true, 5, kMaxDaemonArgLen, 1);
    bad.feed(bytes(std::string_view("a\0b\0c\0d\0\0", 9)));
    EXPECT_FALSE(bad.done());
    ASSERT_TRUE(bad.error());
    EXPECT_EQ(*bad.error(), "too many daemon arguments");
    EXPECT_EQ(bad.feed("x"), 0u);

    DaemonArgReader second(true, 5, kMaxDaemonArgLen, 0);
    second.feed(bytes(std::string_view("a\0b\0c\0d\0\0", 9)));
    EXPECT_TRUE(second.done());
}

// Verifies that the end of input ends the list as upstream's read_line does: a partial
// argument counts as one more, an empty remainder adds nothing, and the argv bound still holds.
TEST(DaemonArgReader, EndOfInputEndsTheList)
{
    DaemonArgReader partial(true);
    partial.feed(bytes(std::string_view("--server\0--sender\0-r", 21)));
    ASSERT_FALSE(partial.done());
    partial.finish_at_eof();
    ASSERT_TRUE(partial.done());
    EXPECT_FALSE(partial.error());
    EXPECT_EQ(partial.take(), (std::vector<std::string>{"--server", "--sender", "-r"}));

    DaemonArgReader empty(false);
    empty.finish_at_eof();
    ASSERT_TRUE(empty.done());
    EXPECT_TRUE(empty.take().empty());

    DaemonArgReader after_terminator(true);
    after_terminator.feed(bytes(std::string_view("a\0", 2)));
    after_terminator.finish_at_eof();
    EXPECT_EQ(after_terminator.take(), (std::vector<std::string>{"a"}));

    DaemonArgReader bound(true, 3, kMaxDaemonArgLen, 1);
    bound.feed(bytes(std::string_view("a\0b", 3)));
    bound.finish_at_eof();
    EXPECT_FALSE(bound.done());
    ASSERT_TRUE(bound.error());
}

// Verifies that each backslash escapes the next byte and a trailing one stays (unbackslash_arg).
TEST(DaemonArgs, Unbackslash)
{
    EXPECT_EQ(unbackslash_arg("a\\ b\\*"), "a b*");
    EXPECT_EQ(unbackslash_arg("a\\\\b"), "a\\b");
    EXPECT_EQ(unbackslash_arg("x\\"), "x\\");
    EXPECT_EQ(unbackslash_arg("\\!x"), "!x");
}

// Verifies that clean_fname applies upstream's slash, dot and dot-dot rules.
TEST(DaemonArgs, CleanFname)
{
    const unsigned glob = kCfnKeepDotDirs | kCfnKeepTrailingSlash | kCfnCollapseDotDotDirs;
    EXPECT_EQ(clean_fname("a//b/./c/", 0), "a/b/c");
    EXPECT_EQ(clean_fname("a//b/./c/", glob), "a/b/./c/");
    EXPECT_EQ(clean_fname("./x", glob), "./x");
    EXPECT_EQ(clean_fname("./x", 0), "x");
    EXPECT_EQ(clean_fname("a/../b", kCfnCollapseDotDotDirs), "b");
    EXPECT_EQ(clean_fname("/a/../b", kCfnCollapseDotDotDirs), "/b");
    EXPECT_EQ(clean_fname("a/b/../../c", kCfnCollapseDotDotDirs), "c");
    EXPECT_EQ(clean_fname("../../a", kCfnCollapseDotDotDirs), "../../a");
    EXPECT_EQ(clean_fname("/../a", kCfnCollapseDotDotDirs), "/a");
    EXPECT_EQ(clean_fname("a/..", kCfnCollapseDotDotDirs), ".");
    EXPECT_EQ(clean_fname("", 0), ".");
    EXPECT_EQ(clean_fname("/", glob), "/");
    EXPECT_EQ(clean_fname("a/.", kCfnDropTrailingDotDir), "a");
    EXPECT_FALSE(clean_fname("a/../b", kCfnRefuseDotDotDirs));
    EXPECT_FALSE(clean_fname("../b", kCfnRefuseDotDotDirs));
    EXPECT_EQ(clean_fname("a/..b", kCfnRefuseDotDotDirs), "a/..b");
}

// Verifies that in sanitize_path a leading slash becomes the root, ".." cannot climb, a trailing
// slash stays, "." components go unless kept for -R.
TEST(DaemonArgs, SanitizePath)
{
    EXPECT_EQ(sanitize_path("/etc/passwd", "", 0, false, true), "etc/passwd");
    EXPECT_EQ(sanitize_path("/etc/passwd", "/srv/mod", 0, false, true), "/srv/mod/etc/passwd");
    EXPECT_EQ(sanitize_path("/x", "/", 0, false, true), "/x");
    EXPECT_EQ(sanitize_path("../../a/b/", "", 0, false, true), "a/b/");
    EXPECT_EQ(sanitize_path("a/../../b", "", 0, false, true), "b");
    EXPECT_EQ(sanitize_path("../a", "", 1, false, true), "../a");
    EXPECT_EQ(sanitize_path("a/./b", "", 0, true, true), "a/./b");
    EXPECT_EQ(sanitize_path("a/./b", "", 0, true, false), "a/b");
    EXPECT_EQ(sanitize_path("./a", "", 0, false, true), "a");
    EXPECT_EQ(sanitize_path("..", "", 0, false, true), ".");
    EXPECT_EQ(sanitize_path("", "", 0, false, true), ".");
    EXPECT_FALSE(
        sanitize_path("/ab", "/", 0, false, true, 5)); // 1 + 3 + 1 must stay below the size
    EXPECT_TRUE(sanitize_path("/ab", "/", 0, false, true, 6));
}

// Verifies that path arguments lose the module prefix and get cleaned, with and without sanitizing.
TEST(DaemonArgs, ModulePathPatterns)
{
    using V = std::vector<std::string>;
    EXPECT_EQ(module_path_patterns("mod", "mod/sub/", false, false, true), V{"/sub/"});
    EXPECT_EQ(module_path_patterns("mod", "mod/sub/", false, true, true), V{"sub/"});
    EXPECT_EQ(module_path_patterns("mod", "mod/", false, false, true), V{"/"});
    EXPECT_EQ(module_path_patterns("mod", "mod/", false, true, true), V{"."});
    // The bare module name leaves an empty string, which upstream's split loop never visits.
    EXPECT_TRUE(module_path_patterns("mod", "mod", false, false, true).empty());
    EXPECT_EQ(module_path_patterns("mod", "mod", true, false, true), V{"."});
    // A plain byte compare with the module name: "modx/y" loses "mod".
    EXPECT_EQ(module_path_patterns("mod", "modx/y", false, false, true), V{"x/y"});
    // Not starting with the module name: kept (cleaned).
    EXPECT_EQ(module_path_patterns("mod", "./-b", false, false, true), V{"./-b"});
    // Old-style multi-path arguments split at " mod/".
    EXPECT_EQ(module_path_patterns("mod", "mod/x mod/y", false, false, true), (V{"/x", "y"}));
    EXPECT_EQ(module_path_patterns("mod", "mod/a mod/ mod/b", false, false, true),
              (V{"/a", ".", "b"}));
    // ... unless escaped ("[ ]mod/"), or in the -s batch.
    EXPECT_EQ(module_path_patterns("mod", "mod/x[ ]mod/y", false, false, true), V{"/x[ ]mod/y"});
    EXPECT_EQ(module_path_patterns("mod", "mod/x mod/y", true, false, true), V{"/x mod/y"});
    // ".." never climbs out, with or without sanitizing.
    EXPECT_EQ(module_path_patterns("mod", "mod/../../etc", false, false, true), V{"/etc"});
    EXPECT_EQ(module_path_patterns("mod", "mod/../../etc", false, true, true), V{"etc"});
    EXPECT_TRUE(module_path_patterns("mod", "", false, false, true).empty());
    EXPECT_TRUE(has_glob_chars("/a[1]?"));
    EXPECT_FALSE(has_glob_chars("/plain"));
}

// Verifies that read_args' argv has "rsyncd" first, option arguments unescaped before ".", path
// arguments module-processed and collected into the request.
TEST(DaemonArgs, ProcessFirstBatch)
{
    DaemonArgContext ctx;
    ctx.module = "mod";
    const auto r = process_daemon_args(
        {"--server", "--backup-dir", "a\\ b\\*", ".", "mod/x\\y", "mod/z"}, ctx);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.argv, (std::vector<std::string>{"rsyncd", "--server", "--backup-dir", "a b*", ".",
                                                "/x\\y", "/z"}));
    EXPECT_EQ(r.dot_pos, 5u);
    ASSERT_TRUE(r.request);
    EXPECT_EQ(*r.request, "mod/x\\y mod/z");
}

// Verifies that an escaped dot still counts as the separator and that no request exists
// without path arguments.
TEST(DaemonArgs, EscapedDotAndNoRequest)
{
    DaemonArgContext ctx;
    ctx.module = "m";
    const auto r = process_daemon_args({"--server", "\\."}, ctx);
    EXPECT_EQ(r.dot_pos, 3u);
    EXPECT_FALSE(r.request);
}

// Verifies that the second (-s) batch gets no "rsyncd", no unescaping and no " mod/" split.
TEST(DaemonArgs, ProcessSecludedBatch)
{
    DaemonArgContext ctx;
    ctx.module = "mod";
    ctx.secluded_batch = true;
    const auto r =
        process_daemon_args({"rsync", "--backup-dir", "a\\ b", ".", "mod/sub dir mod/x"}, ctx);
    EXPECT_EQ(r.argv,
              (std::vector<std::string>{"rsync", "--backup-dir", "a\\ b", ".", "/sub dir mod/x"}));
    EXPECT_EQ(*r.request, "mod/sub dir mod/x");
}

// Verifies that below protocol 30 a NUL inside an argument ends it (C strings), which can
// leave an empty option word or an empty path (no pattern, but an empty request part).
TEST(DaemonArgs, EmbeddedNulBelowProtocol30)
{
    DaemonArgReader r(false);
    static constexpr char kBytes[] = "--server\n\0x\n.\nm/a\0b\n\0\nm/c\n\n";
    r.feed(std::string_view(kBytes, sizeof kBytes - 1));
    ASSERT_TRUE(r.done());
    const auto raw = r.take();
    ASSERT_EQ(raw.size(), 6u);
    DaemonArgContext ctx;
    ctx.module = "m";
    const auto p = process_daemon_args(raw, ctx);
    EXPECT_EQ(p.argv, (std::vector<std::string>{"rsyncd", "--server", "", ".", "/a", "/c"}));
    EXPECT_EQ(*p.request, "m/a  m/c");

    const auto first_empty = process_daemon_args({".", std::string("\0", 1), "m/b"}, ctx);
    ASSERT_TRUE(first_empty.request);
    EXPECT_EQ(*first_empty.request, "m/b");
}

// Verifies that the request stops growing once it reaches 1024 bytes.
TEST(DaemonArgs, RequestLengthCap)
{
    DaemonArgContext ctx;
    ctx.module = "m";
    const std::string big(1030, 'a');
    const auto r = process_daemon_args({".", "m/1", big, "m/2"}, ctx);
    ASSERT_TRUE(r.request);
    EXPECT_EQ(r.request->size(), 3u + 1u + 1030u);
    EXPECT_EQ(r.argv.size(), 5u);
}

// Verifies that the argv bound counts the pieces of split arguments.
TEST(DaemonArgs, ProcessTooMany)
{
    DaemonArgContext ctx;
    ctx.module = "m";
    ctx.max_args = 6;
    const auto ok = process_daemon_args({".", "m/a m/b", "m/c"}, ctx);
    EXPECT_TRUE(ok.ok);
    const auto bad = process_daemon_args({".", "m/a m/b m/c", "m/d"}, ctx);
    EXPECT_FALSE(bad.ok);
    EXPECT_EQ(bad.error, "too many daemon arguments");
}

// Verifies that RSYNC_REQUEST and RSYNC_ARGn are built as upstream does, with -s and "(NONE)".
TEST(DaemonArgs, PreExecArgs)
{
    const auto plain =
        pre_exec_args(std::string("mod/a"), nullptr, {"rsyncd", "--server", ".", "/a"});
    EXPECT_EQ(plain.request, "mod/a");
    EXPECT_EQ(plain.args, (std::vector<std::string>{"rsyncd", "--server", ".", "/a"}));

    const std::vector<std::string> first{"rsyncd", "--server", "-s"};
    const auto sec = pre_exec_args(std::nullopt, &first, {"rsync", "--x", ".", "/p"});
    EXPECT_EQ(sec.request, "(NONE)");
    EXPECT_EQ(sec.args, (std::vector<std::string>{"rsyncd", "--server", "-s", "--x", ".", "/p"}));

    const auto cut = pre_exec_args(std::nullopt, nullptr, {"a", "", "b"});
    EXPECT_EQ(cut.args, (std::vector<std::string>{"a"}));
}

// Verifies that every captured client argument list (both batches) reads completely with the
// framing of its protocol.
TEST(DaemonArgs, CapturedListsRead)
{
    std::ifstream manifest(std::string(OCR_TEST_DATA_DIR) + "/options/captures.txt");
    ASSERT_TRUE(manifest.good());
    std::string line;
    int count = 0;
    while (std::getline(manifest, line)) {
        if (line.empty() || line[0] == '#')
            continue;
        const std::string name = line.substr(0, line.find(" | "));
        const int proto = std::stoi(line.substr(line.find(" | ") + 3));
        const std::string data = read_capture(name);
        ASSERT_FALSE(data.empty()) << name;
        DaemonArgReader first(proto >= 30);
        const std::size_t used = first.feed(data);
        ASSERT_TRUE(first.done()) << name;
        const auto args = first.take();
        ASSERT_FALSE(args.empty()) << name;
        EXPECT_EQ(args[0], "--server") << name;
        const bool secluded = args.size() > 1 && args[1 + (args[1] == "--sender")].find('s') == 1;
        if (secluded) {
            DaemonArgReader second(true, kMaxDaemonArgs, kMaxDaemonArgLen, 0);
            EXPECT_EQ(second.feed(std::string_view(data).substr(used)), data.size() - used) << name;
            ASSERT_TRUE(second.done()) << name;
            EXPECT_EQ(second.take().at(0), "rsync") << name;
        } else {
            EXPECT_EQ(used, data.size()) << name;
        }
        ++count;
    }
    EXPECT_GE(count, 100);
}
