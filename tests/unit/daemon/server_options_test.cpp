// SPDX-License-Identifier: MIT
// Tests for parsing a daemon's argument list: popt's rules and each option's side effects.
#include "daemon/server_options.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace ocr::daemon;

namespace {

OptionParseResult parse(std::vector<std::string> args, std::string_view refuse = "",
                        ServerParseContext ctx = {})
{
    args.insert(args.begin(), "rsyncd");
    return parse_server_args(args, parse_refuse_options(refuse), ctx);
}

ServerOptions ok(std::vector<std::string> args, std::string_view refuse = "")
{
    const auto r = parse(std::move(args), refuse);
    EXPECT_TRUE(r.ok) << r.error;
    return r.options;
}

} // namespace

// Verifies that a typical pull sets the roles, the -a set, -z, the capability string and the paths.
TEST(ServerOptions, TypicalPull)
{
    const auto o = ok({"--server", "--sender", "-vlogDtprze.iLsfxCIvu", ".", "/sub/"});
    EXPECT_EQ(o.am_server, 1);
    EXPECT_EQ(o.am_sender, 1);
    EXPECT_EQ(o.verbose, 1);
    EXPECT_EQ(o.preserve_links, 1);
    EXPECT_EQ(o.preserve_uid, 1);
    EXPECT_EQ(o.preserve_gid, 1);
    EXPECT_EQ(o.preserve_devices, 1);
    EXPECT_EQ(o.preserve_specials, 1);
    EXPECT_EQ(o.preserve_mtimes, 1);
    EXPECT_EQ(o.preserve_perms, 1);
    EXPECT_EQ(o.recurse, 2);
    EXPECT_EQ(o.xfer_dirs, 1);
    EXPECT_EQ(o.do_compression, 1);
    EXPECT_FALSE(o.compress_choice);
    ASSERT_TRUE(o.shell_cmd);
    EXPECT_EQ(*o.shell_cmd, ".iLsfxCIvu");
    EXPECT_EQ(o.args, (std::vector<std::string>{".", "/sub/"}));
    EXPECT_EQ(o.paths, (std::vector<std::string>{"/sub/"}));
    EXPECT_EQ(o.relative_paths, 0);
    EXPECT_EQ(o.implied_dirs, 0);
    EXPECT_EQ(o.protect_args, 0);
    EXPECT_EQ(o.whole_file, -1);
    EXPECT_EQ(o.backup_suffix, "~");
    // -v at the default priority: COPY, DEL, FLIST, MISC, NAME, STATS, SYMSAFE and NONREG.
    EXPECT_EQ(o.info_levels[6], 1); // NAME
    EXPECT_EQ(o.info_levels[7], 1); // NONREG
    EXPECT_EQ(o.info_levels[0], 0); // BACKUP needs -vv
}

// Verifies that popt's argument forms work: --opt=val, --opt val, attached and "="-attached short
// values, and a separate word taken even when it starts with a dash.
TEST(ServerOptions, ArgumentForms)
{
    auto o = ok({"--server", "--timeout=30", "--bwlimit", "100", "-B1024", ".", "x"});
    EXPECT_EQ(o.io_timeout, 30);
    EXPECT_EQ(o.bwlimit, 100);
    EXPECT_EQ(o.bwlimit_arg, "102400");
    EXPECT_EQ(o.block_size, 1024);

    o = ok({"--server", "-B=2048", "-T", "-tmp", "--suffix=", "-b", "--backup-dir=x", "."});
    EXPECT_EQ(o.block_size, 2048);
    EXPECT_EQ(o.tmpdir, "-tmp");
    EXPECT_EQ(o.backup_suffix, "");
    EXPECT_EQ(o.backup_dir, "x/");
    EXPECT_EQ(o.make_backups, 1);

    // A value attached to a short option is the rest of the word.
    o = ok({"--server", "-ve.iL", "."});
    EXPECT_EQ(o.verbose, 1);
    ASSERT_TRUE(o.shell_cmd);
    EXPECT_EQ(*o.shell_cmd, ".iL");
    EXPECT_EQ(parse({"--server", "-vBe.iL", "."}).error, "--block-size=e.iL is invalid");
}

// Verifies that integers are parsed like strtoll with base 0.
TEST(ServerOptions, IntegerSyntax)
{
    EXPECT_EQ(ok({"--server", "--timeout=0x10", "."}).io_timeout, 16);
    EXPECT_EQ(ok({"--server", "--timeout=010", "."}).io_timeout, 8);
    EXPECT_EQ(ok({"--server", "--timeout= 7", "."}).io_timeout, 7);
    EXPECT_EQ(ok({"--server", "--timeout=", "."}).io_timeout, 0);
    EXPECT_EQ(ok({"--server", "--max-delete=-5", "."}).max_delete, 0);
    EXPECT_EQ(ok({"--server", "--checksum-seed=-2", "."}).checksum_seed, -2);
}

// Verifies that options may follow non-option words and that "--" ends options.
TEST(ServerOptions, LeftoversAndDoubleDash)
{
    auto o = ok({"--server", ".", "-v", "/a", "-", "--", "-x", "--bogus"});
    EXPECT_EQ(o.verbose, 1);
    EXPECT_EQ(o.args, (std::vector<std::string>{".", "/a", "-", "-x", "--bogus"}));
    EXPECT_EQ(o.one_file_system, 0);
}

// Verifies that options before --server are processed twice (popt restarts at --server).
TEST(ServerOptions, ServerRestartsParsing)
{
    auto o = ok({"-v", "--server", "-v", "."});
    EXPECT_EQ(o.verbose, 3);
    auto twice = parse({"--usermap=a", "--server", "."});
    EXPECT_FALSE(twice.ok);
    EXPECT_EQ(twice.error, "You can only specify --usermap once.");
    // Without --server the daemon is no server: --append counts once and --sender is fatal.
    auto noserver = parse({"--sender", "--server", "."});
    EXPECT_EQ(noserver.outcome, ParseOutcome::Exit);
    EXPECT_EQ(noserver.exit_code, 1);
    EXPECT_FALSE(noserver.log_request);
}

// Verifies that "!#:+" in a value is replaced by the next word not starting with '-', which
// then stops being an argument; with no words left it stays literal.
TEST(ServerOptions, PoptArgExpansion)
{
    auto o = ok({"--server", "--suffix=x!#:+y!#:+", "-v", "a", "b"});
    EXPECT_EQ(o.backup_suffix, "xaya");
    EXPECT_EQ(o.args, (std::vector<std::string>{"b"}));
    o = ok({"--server", "--suffix=z!#:+"});
    EXPECT_EQ(o.backup_suffix, "z!#:+");
    // Upstream spins forever when words remain but none qualifies; we stop instead.
    const auto hang = parse({"--server", "--suffix=!#:+", "-v"});
    EXPECT_EQ(hang.outcome, ParseOutcome::Exit);
}

// Verifies that -a sets what it implies, that -D/--no-D work, and that -a keeps -r's "2".
TEST(ServerOptions, ArchiveAndDevices)
{
    auto o = ok({"--server", "-ra", "."});
    EXPECT_EQ(o.recurse, 2);
    o = ok({"--server", "-a", "."});
    EXPECT_EQ(o.recurse, 1);
    EXPECT_EQ(o.preserve_specials, 1);
    o = ok({"--server", "-a", "--no-D", "--specials", "."});
    EXPECT_EQ(o.preserve_devices, 0);
    EXPECT_EQ(o.preserve_specials, 1);
    o = ok({"--server", "-D", "--no-specials", "."});
    EXPECT_EQ(o.preserve_devices, 1);
    EXPECT_EQ(o.preserve_specials, 0);
}

// Verifies that counted flags count: -HH, -XX, -UU (also open_noatime), -yy, -xx, -vvv.
TEST(ServerOptions, CountedFlags)
{
    auto o = ok({"--server", "-lHHogDtUUpXXrxxyye.iLsfxCIvu", "--link-dest", "a", "."});
    EXPECT_EQ(o.preserve_hard_links, 2);
    EXPECT_EQ(o.preserve_xattrs, 2);
    EXPECT_EQ(o.preserve_atimes, 2);
    EXPECT_EQ(o.open_noatime, 1);
    EXPECT_EQ(o.one_file_system, 2);
    EXPECT_EQ(o.fuzzy_basis, 2); // basis dirs + 1
    o = ok({"--server", "-vvv", "."});
    EXPECT_EQ(o.verbose, 3);
    EXPECT_EQ(o.debug_levels[2], 1); // BIND at -vv
}

// Verifies that the delete options set the right delete mode.
TEST(ServerOptions, DeleteModes)
{
    auto o = ok({"--server", "-r", "--delete", "."});
    EXPECT_EQ(o.delete_mode, 1);
    EXPECT_EQ(o.delete_during + o.delete_before + o.delete_after, 0); // chosen at setup
    o = ok({"--server", "-r", "--del", "."});
    EXPECT_EQ(o.delete_during, 1);
    EXPECT_EQ(o.delete_mode, 1);
    o = ok({"--server", "-r", "--delete-delay", "."});
    EXPECT_EQ(o.delete_during, 2);
    o = ok({"--server", "-r", "--delete-excluded", "."});
    EXPECT_EQ(o.delete_mode, 1);
    EXPECT_EQ(o.delete_excluded, 1);
    // A refused delete-before makes --delete pick "during" now (and the reverse).
    o = ok({"--server", "-r", "--delete", "."}, "delete-before");
    EXPECT_EQ(o.delete_during, 1);
    o = ok({"--server", "-r", "--delete", "."}, "delete-during");
    EXPECT_EQ(o.delete_before, 1);
    o = ok({"--server", "-d", "--no-r", "--delete", "."});
    EXPECT_EQ(o.xfer_dirs, 2);
    EXPECT_EQ(o.recurse, 0);
    EXPECT_EQ(ok({"--server", "--ignore-missing-args", "--delete-missing-args", "."}).missing_args,
              2);
}

// Verifies that -z, -zz, the compress choices and levels give upstream's settings.
TEST(ServerOptions, Compression)
{
    auto o = ok({"--server", "-z", "."});
    EXPECT_EQ(o.do_compression, 1);
    o = ok({"--server", "-zz", "."});
    EXPECT_EQ(o.do_compression, kCpresZlibx);
    EXPECT_EQ(o.compress_choice, "zlibx");
    o = ok({"--server", "--new-compress", "."});
    EXPECT_EQ(o.do_compression, kCpresZlibx);
    o = ok({"--server", "-z", "--old-compress", "."});
    EXPECT_EQ(o.do_compression, kCpresZlib);
    o = ok({"--server", "--compress-choice=ZSTD", "--compress-level=3", "."});
    EXPECT_EQ(o.do_compression, kCpresZstd);
    EXPECT_EQ(o.compress_choice, "ZSTD");
    EXPECT_EQ(o.do_compression_level, 3);
    o = ok({"--server", "--compress-level=1", "--compress-choice=none", "."});
    EXPECT_EQ(o.do_compression, kCpresAuto); // a level alone turns compression on
    EXPECT_EQ(o.compress_choice, "none");
    o = ok({"--server", "--zc=auto", "-z", "."});
    EXPECT_FALSE(o.compress_choice);
    o = ok({"--server", "-z", "--no-z", "."});
    EXPECT_EQ(o.do_compression, 0);
    o = ok({"--server", "-z", "--zt=99", "."});
    EXPECT_EQ(o.do_compression_threads, kMaxDaemonCompressionThreads);
}

// Verifies that --checksum-choice resolves names, handles "auto" and forces whole_file for "none".
TEST(ServerOptions, ChecksumChoice)
{
    auto o = ok({"--server", "--checksum-choice=xxhash,MD5", "."});
    EXPECT_EQ(o.xfer_checksum_name, "xxh64");
    EXPECT_EQ(o.file_checksum_name, "md5");
    o = ok({"--server", "--cc=auto", "."});
    EXPECT_FALSE(o.checksum_choice);
    o = ok({"--server", "--cc=none", "."});
    EXPECT_EQ(o.whole_file, 1);
    o = ok({"--server", "--cc=auto,sha1", "."});
    EXPECT_EQ(o.xfer_checksum_name, "md5");
    EXPECT_EQ(o.file_checksum_name, "sha1");
}

// Verifies that the size options honour their suffixes and keep normalized strings.
TEST(ServerOptions, Sizes)
{
    auto o = ok({"--server", "--max-size=1.5M", "--min-size=1k", "."});
    EXPECT_EQ(o.max_size, 1572864);
    EXPECT_EQ(o.max_size_arg, "1572864");
    EXPECT_EQ(o.min_size, 1024);
    o = ok({"--server", "--max-size=1kb", "--min-size=2KiB", "."});
    EXPECT_EQ(o.max_size, 1000);
    EXPECT_EQ(o.min_size, 2048);
    o = ok({"--server", "--max-size=1k-1", "--min-size=5+1", "."});
    EXPECT_EQ(o.max_size, 1023);
    EXPECT_EQ(o.min_size, 6);
    o = ok({"--server", "--bwlimit=1.5m", "."});
    EXPECT_EQ(o.bwlimit, 1536);
    o = ok({"--server", "--bwlimit=0", "."});
    EXPECT_EQ(o.bwlimit, 0);
    o = ok({"--server", "--max-alloc=2G", "."});
    EXPECT_EQ(o.max_alloc, 2ull * 1024 * 1024 * 1024);
}

// Verifies that --info/--debug words take levels and ALL/NONE, and that unknown words are ignored
// on a server.
TEST(ServerOptions, InfoDebugWords)
{
    auto o = ok({"--server", "--info=name2,del,bogus7,ALL0", "--debug=flist4,nstr", "."});
    // ALL0 comes last at the same priority and sets everything to 0.
    EXPECT_EQ(o.info_levels[6], 0);
    EXPECT_EQ(o.debug_levels[11], 4); // FLIST
    EXPECT_EQ(o.debug_levels[18], 1); // NSTR
    o = ok({"--server", "--info=none,STATS3", "-v", "."});
    EXPECT_EQ(o.info_levels[11], 3);
    EXPECT_EQ(o.info_levels[6], 0); // the user's NONE wins over -v's default
    o = ok({"--server", "--info=name99", "."});
    EXPECT_EQ(o.info_levels[6], 4);
    o = ok({"--server", "--stats", "-vv", "."});
    EXPECT_EQ(o.info_levels[11], 3);
    limit_output_verbosity(o, 1);
    EXPECT_EQ(o.info_levels[11], 1);
    EXPECT_EQ(o.info_levels[0], 0);
    const auto help = parse({"--server", "--debug=help", "."});
    EXPECT_EQ(help.outcome, ParseOutcome::Exit);
    EXPECT_EQ(help.exit_code, 0);
}

// Verifies that --usermap/--groupmap/--chown combine and conflict as upstream's do.
TEST(ServerOptions, UserAndGroupMaps)
{
    auto o = ok({"--server", "--chown=u:g", "."});
    EXPECT_EQ(o.usermap, "*:u");
    EXPECT_EQ(o.groupmap, "*:g");
    EXPECT_EQ(o.preserve_uid, 1);
    EXPECT_EQ(o.preserve_gid, 1);
    o = ok({"--server", "--chown=:g", "--usermap=a:b", "."});
    EXPECT_EQ(o.usermap, "a:b");
    EXPECT_EQ(parse({"--server", "--chown=u", "--chown=v", "."}).error,
              "You can only specify a user-affecting --chown once.");
    EXPECT_EQ(parse({"--server", "--groupmap=x", "--chown=:g", "."}).error,
              "--chown conflicts with prior --groupmap.");
    EXPECT_EQ(parse({"--server", "--chown=u", "--usermap=x", "."}).error,
              "--usermap conflicts with prior --chown.");
}

// Verifies that on a server --files-from=- reads the socket and a path names a local file.
TEST(ServerOptions, FilesFrom)
{
    auto o = ok({"--server", "--sender", "-r", "--files-from=-", "--from0", ".", "/"});
    EXPECT_TRUE(o.files_from_socket);
    EXPECT_EQ(o.eol_nulls, 1);
    EXPECT_EQ(o.relative_paths, 1);
    EXPECT_EQ(o.recurse, 2); // an explicit -r survives
    o = ok({"--server", "--sender", "-a", "--files-from=list", ".", "/"});
    EXPECT_EQ(o.recurse, 0); // -a's recursion does not
    EXPECT_EQ(o.files_from_path, "list");
    EXPECT_EQ(o.xfer_dirs, 1);

    ServerParseContext ctx;
    std::string opened;
    ctx.open_files_from = [&](const std::string& p) -> std::optional<std::string> {
        opened = p;
        return std::string("No such file or directory");
    };
    const auto r = parse({"--server", "--sender", "--files-from=/l", ".", "/"}, "", ctx);
    EXPECT_EQ(opened, "/l");
    EXPECT_EQ(r.error, "failed to open files-from file /l: No such file or directory");
}

// Verifies that a non-chroot module sanitizes the paths and --temp-dir/--backup-dir.
TEST(ServerOptions, SanitizePaths)
{
    ServerParseContext ctx;
    ctx.sanitize_paths = true;
    ctx.module_dir = "/srv/mod";
    ctx.module_dirlen = 8;
    ctx.module_temp_dir = std::string("/tmp");
    const auto r = parse({"--server", "--backup-dir=../../x", ".", "../../etc", "a/./b"}, "", ctx);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.options.args, (std::vector<std::string>{".", "etc", "a/b"}));
    EXPECT_EQ(r.options.tmpdir, "/srv/mod/tmp");
    EXPECT_EQ(r.options.backup_dir, "x/");
}

// Verifies that server-side paths named by options are checked against the daemon filter.
TEST(ServerOptions, DaemonFilterRejects)
{
    ServerParseContext ctx;
    std::vector<std::string> seen;
    ctx.daemon_excludes = [&](std::string_view p, bool) {
        seen.emplace_back(p);
        return p == "secret" || p == "/secret";
    };
    EXPECT_EQ(parse({"--server", "--temp-dir=secret", "."}, "", ctx).error,
              "Your options have been rejected by the server.");
    EXPECT_TRUE(parse({"--server", "--sender", "--temp-dir=secret", "."}, "", ctx).ok);
    EXPECT_EQ(parse({"--server", "--exclude-from=a/../secret", "."}, "", ctx).error,
              "Your options have been rejected by the server.");
    EXPECT_EQ(parse({"--server", "--sender", "--files-from=secret", ".", "/"}, "", ctx).error,
              "Your options have been rejected by the server.");
    EXPECT_EQ(parse({"--server", "--backup-dir=", "."}, "", ctx).error,
              "Your options have been rejected by the server.");
}

// Verifies that filter rules given as options are kept in order, including -FF and --old-dirs.
TEST(ServerOptions, FilterOptions)
{
    const auto o =
        ok({"--server", "-FF", "--exclude=*.o", "--include", "x", "-f", "- y", "--old-d", "."});
    ASSERT_EQ(o.filters.size(), 6u);
    EXPECT_EQ(o.filters[0].text, ": /.rsync-filter");
    EXPECT_EQ(o.filters[1].text, "- .rsync-filter");
    EXPECT_EQ(o.filters[2].kind, FilterOption::Kind::Exclude);
    EXPECT_EQ(o.filters[3].kind, FilterOption::Kind::Include);
    EXPECT_EQ(o.filters[4].text, "- y");
    EXPECT_EQ(o.filters[5].text, "- /*/*");
    EXPECT_EQ(o.recurse, 1);
}

// Verifies that a server ignores --write-batch (with a log line) but keeps --only-write-batch.
TEST(ServerOptions, Batches)
{
    auto r = parse({"--server", "--write-batch=x", "."});
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.options.write_batch, 0);
    ASSERT_EQ(r.log_lines.size(), 1u);
    EXPECT_EQ(r.log_lines[0], "ignoring --write-batch option sent to server");
    r = parse({"--server", "--only-write-batch=X", "."});
    EXPECT_EQ(r.options.write_batch, -1);
    EXPECT_TRUE(r.log_lines.empty());
}

// Verifies that the first batch stops after -s and the second batch continues its state.
TEST(ServerOptions, SecludedArgs)
{
    const RefuseSet none = parse_refuse_options("");
    ServerParseContext ctx;
    const auto first =
        parse_server_args({"rsyncd", "--server", "-svlogDtpre.iLsfxCIvu"}, none, ctx);
    ASSERT_TRUE(first.ok);
    EXPECT_TRUE(first.wants_second_batch);
    EXPECT_EQ(first.options.protect_args, 1);
    const auto second = parse_secluded_args(
        {"rsync", "--backup-dir", "a b*", "-v", ".", "/sub dir/"}, none, ctx, first);
    ASSERT_TRUE(second.ok) << second.error;
    EXPECT_FALSE(second.wants_second_batch);
    EXPECT_EQ(second.options.protect_args, 2);
    EXPECT_EQ(second.options.verbose, 2);
    EXPECT_EQ(second.options.backup_dir, "a b*/");
    EXPECT_EQ(second.options.paths, (std::vector<std::string>{"/sub dir/"}));
    EXPECT_THROW((void)parse_secluded_args({"rsync"}, none, ctx, second), std::invalid_argument);
    // --old-args cannot join a -s session.
    const auto clash = parse_secluded_args({"rsync", "--old-args", "."}, none, ctx, first);
    EXPECT_EQ(clash.error, "--secluded-args conflicts with --old-args.");
}

// Verifies that --stop-after and --stop-at compute times from a fixed clock.
TEST(ServerOptions, StopTimes)
{
    ServerParseContext ctx;
    ctx.now = 1700000000;
    auto r = parse({"--server", "--stop-after=2", "."}, "", ctx);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.options.stop_at_utime, 1700000000 + 120);
    r = parse({"--server", "--stop-at=2099-01-01T00:00", "."}, "", ctx);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_GT(r.options.stop_at_utime, ctx.now);
    r = parse({"--server", "--stop-at=23:59", "."}, "", ctx);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_GT(r.options.stop_at_utime, ctx.now);
    EXPECT_LE(r.options.stop_at_utime, ctx.now + 86400);
    EXPECT_EQ(parse({"--server", "--stop-at=zz", "."}, "", ctx).error,
              "invalid --stop-at format: zz");
    EXPECT_EQ(parse({"--server", "--stop-at=2001-01-01T00:00", "."}, "", ctx).error,
              "--stop-at time is not in the future: 2001-01-01T00:00");
    EXPECT_EQ(parse({"--server", "--stop-after=0", "."}, "", ctx).error,
              "invalid --stop-after value: 0");
}

// Verifies that the output-format bookkeeping a server uses is derived as upstream does.
TEST(ServerOptions, OutputFormats)
{
    auto o = ok({"--server", "--log-format=%i%I", "."});
    EXPECT_EQ(o.stdout_format_has_i, 2);
    EXPECT_EQ(o.stdout_format_has_o_or_i, 1);
    o = ok({"--server", "--log-format=%o", "."});
    EXPECT_EQ(o.stdout_format_has_i, 0);
    EXPECT_EQ(o.stdout_format_has_o_or_i, 1);
    o = ok({"--server", "-v", "."});
    EXPECT_EQ(o.stdout_format, "%n%L");
    EXPECT_TRUE(log_format_has(std::string("%'-12i"), 'i'));
    EXPECT_FALSE(log_format_has(std::string("%%i"), 'i'));
}

// Verifies that --partial-dir, --inplace and --append interact as upstream's do.
TEST(ServerOptions, PartialInplaceAppend)
{
    auto o = ok({"--server", "--partial-dir=a/../.p/", "."});
    EXPECT_EQ(o.partial_dir, ".p");
    EXPECT_EQ(o.keep_partial, 1);
    o = ok({"--server", "--delay-updates", "."});
    EXPECT_EQ(o.partial_dir, ".~tmp~");
    o = ok({"--server", "--append", "--append", "."});
    EXPECT_EQ(o.append_mode, 2);
    EXPECT_EQ(o.inplace, 1);
    o = ok({"--server", "--partial", "--inplace", "."});
    EXPECT_EQ(o.keep_partial, 0);
    o = ok({"--server", "--partial-dir=.", "."});
    EXPECT_FALSE(o.partial_dir);
}

// Verifies that the shared helpers (numbers, chmod, host specs) behave as upstream's.
TEST(ServerOptions, Helpers)
{
    EXPECT_EQ(do_big_num(131072, 3), "128.00K");
    EXPECT_EQ(do_big_num(1048576, 3), "1.00M");
    EXPECT_EQ(do_big_num(512, 3), "512");
    EXPECT_EQ(do_big_num(1000, 1), "1,000");
    EXPECT_EQ(do_big_num(1234567, 0), "1234567");
    EXPECT_EQ(do_big_num(-5, 0), "-5");
    EXPECT_TRUE(chmod_spec_valid("go-w"));
    EXPECT_TRUE(chmod_spec_valid("Dg+s,Fu=rwx,o-t"));
    EXPECT_TRUE(chmod_spec_valid("644"));
    EXPECT_TRUE(chmod_spec_valid("u=g"));
    EXPECT_FALSE(chmod_spec_valid("zz"));
    EXPECT_FALSE(chmod_spec_valid(""));
    EXPECT_FALSE(chmod_spec_valid("u+r,"));
    EXPECT_FALSE(chmod_spec_valid("DF+r"));
    EXPECT_FALSE(chmod_spec_valid("u+rg"));
    EXPECT_FALSE(chmod_spec_valid("77777"));
    EXPECT_FALSE(chmod_spec_valid("u644"));
    EXPECT_TRUE(names_remote_host("host:x"));
    EXPECT_TRUE(names_remote_host("host::x"));
    EXPECT_TRUE(names_remote_host("rsync://h/x"));
    EXPECT_TRUE(names_remote_host(":x"));
    EXPECT_TRUE(names_remote_host("[::1]:x"));
    EXPECT_FALSE(names_remote_host("dir/file:x"));
    EXPECT_FALSE(names_remote_host("plain"));
    EXPECT_FALSE(names_remote_host("[::1"));
}
