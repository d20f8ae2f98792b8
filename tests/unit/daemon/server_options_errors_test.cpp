// SPDX-License-Identifier: MIT
// Tests for the errors a server's option parse can end with: texts, exit codes, outcomes.
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

// The error of a parse that must fail with upstream's err_buf (sent to the client).
std::string option_error(std::vector<std::string> args, std::string_view refuse = "")
{
    const auto r = parse(std::move(args), refuse);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.outcome, ParseOutcome::OptionError);
    EXPECT_EQ(r.exit_code, 4);
    EXPECT_TRUE(r.log_request);
    EXPECT_EQ(r.client_message, "rsync: " + r.error + "\n");
    return r.error;
}

} // namespace

// Verifies that popt's own errors are prefixed "on remote machine: " once --server was seen and
// name the last word consumed (all checked against the real daemon).
TEST(ServerOptionErrors, PoptErrors)
{
    EXPECT_EQ(option_error({"--server", "--bogus", "."}),
              "on remote machine: --bogus: unknown option");
    EXPECT_EQ(option_error({"--server", "--verb", "."}),
              "on remote machine: --verb: unknown option");
    EXPECT_EQ(option_error({"--server", "--verbose=2", "."}),
              "on remote machine: --verbose=2: option does not take an argument");
    EXPECT_EQ(option_error({"--server", "-v=", "."}),
              "on remote machine: -v=: option does not take an argument");
    EXPECT_EQ(option_error({"--server", "--timeout=abc", "."}),
              "on remote machine: --timeout=abc: invalid numeric value");
    EXPECT_EQ(option_error({"--server", "--timeout", "abc", "."}),
              "on remote machine: abc: invalid numeric value");
    EXPECT_EQ(option_error({"--server", "--timeout=99999999999", "."}),
              "on remote machine: --timeout=99999999999: number too large or too small");
    EXPECT_EQ(option_error({"--server", ".", "--timeout"}),
              "on remote machine: --timeout: missing argument");
    EXPECT_EQ(option_error({"--server", "-B"}), "on remote machine: -B: missing argument");
    EXPECT_EQ(option_error({"--server", "-vj", "."}), "on remote machine: -vj: unknown option");
    EXPECT_EQ(option_error({"--server", "--=x", "."}), "on remote machine: --=x: unknown option");
    // Before --server there is no "on remote machine: ".
    EXPECT_EQ(option_error({"--bogus", "--server", "."}), "--bogus: unknown option");
}

// Verifies that refused options are reported, directly and by implication.
TEST(ServerOptionErrors, Refusals)
{
    EXPECT_EQ(option_error({"--server", "-vz", "."}, "compress"),
              "The server is configured to refuse --compress (-z)");
    EXPECT_EQ(option_error({"--server", "--compress-level=3", "."}, "compress"),
              "The server is configured to refuse --compress (-z)");
    EXPECT_EQ(option_error({"--server", "-a", "."}, "a"),
              "The server is configured to refuse --archive (-a)");
    EXPECT_EQ(option_error({"--server", "-a", "."}, "t"),
              "The server is configured to refuse --times (-t)");
    EXPECT_EQ(option_error({"--server", "-a", "."}, "l t"),
              "The server is configured to refuse --links (-l)")
        << "an implied part reports the last refused part in table order";
    EXPECT_EQ(option_error({"--server", "-r", "--delete-after", "."}, "delete"),
              "The server is configured to refuse --delete");
    EXPECT_EQ(option_error({"--server", "--sender", "--remove-source-files", "."}, "delete"),
              "The server is configured to refuse --delete");
    EXPECT_TRUE(parse({"--server", "--remove-source-files", "."}, "delete").ok);
    EXPECT_EQ(option_error({"--server", "-r", "--delete", "."}, "delete-before delete-during"),
              "The server is configured to refuse --delete-before");
    EXPECT_EQ(option_error({"--server", "-P", "."}, "progress"),
              "The server is configured to refuse --progress");
    EXPECT_EQ(option_error({"--server", "--inplace", "."}, "partial"),
              "The server is configured to refuse --partial");
    EXPECT_EQ(option_error({"--server", "--append", "."}, "inplace"),
              "The server is configured to refuse --inplace");
    EXPECT_EQ(option_error({"--server", "--write-devices", "."}, "!write-devices inplace"),
              "The server is configured to refuse --inplace");
    EXPECT_EQ(option_error({"--server", "--partial-dir=.", "."}, "partial"),
              "The server is configured to refuse --partial");
    EXPECT_EQ(option_error({"--server", "."}, "no-iconv"),
              "The server is configured to refuse --no-iconv");
    EXPECT_EQ(option_error({"--server", "-D", "."}, "D"),
              "The server is configured to refuse --(null) (-D)");
    EXPECT_EQ(option_error({"--server", "--copy-devices", "."}),
              "The server is configured to refuse --copy-devices");
    EXPECT_EQ(option_error({"--server", "--iconv=utf8", "."}),
              "The server is configured to refuse --iconv");
    EXPECT_EQ(option_error({"--server", "-N", "."}),
              "The server is configured to refuse --crtimes (-N)");
    // A refused integer row still reports a bad number first (popt saves before returning).
    EXPECT_EQ(option_error({"--server", "--timeout=x", "."}, "timeout"),
              "on remote machine: --timeout=x: invalid numeric value");
    // A refused bit-set row is never reported: popt ORs the code into the variable instead.
    EXPECT_TRUE(
        parse({"--server", "--sender", "--delete-missing-args", "."}, "delete-missing-args").ok);
}

// Verifies that size-option errors have upstream's texts, including the human-readable limits.
TEST(ServerOptionErrors, SizeErrors)
{
    EXPECT_EQ(option_error({"--server", "--max-size=1x", "."}), "--max-size=1x is invalid");
    EXPECT_EQ(option_error({"--server", "--max-size=2.5x", "."}), "--max-size=2.5x is invalid");
    EXPECT_EQ(option_error({"--server", "-B999999999", "."}),
              "--block-size=999999999 is too large (max: 128.00K)");
    EXPECT_EQ(option_error({"--server", "--max-alloc=5", "."}),
              "--max-alloc=5 is too small (min: 1.00M or 0 for unlimited)");
    EXPECT_EQ(option_error({"--server", "--max-alloc=0", "."}),
              "max-alloc must be greater than zero");
    EXPECT_EQ(option_error({"--server", "--bwlimit=100b", "."}),
              "--bwlimit=100b is too small (min: 512 or 0 for unlimited)");
    EXPECT_TRUE(parse({"--server", "--bwlimit=1", "."}).ok); // 1 KiB
    EXPECT_EQ(option_error({"--server", "--max-size=99999999999999999999", "."}),
              "--max-size=99999999999999999999 is too large");
    EXPECT_EQ(option_error({"--server", "--max-size=+5", "."}), "--max-size=+5 is invalid");
    EXPECT_EQ(option_error({"--server", "--max-size= 5", "."}), "--max-size= 5 is invalid");
    // Below protocol 30 the block size limit is 512 MiB.
    ServerParseContext old;
    old.protocol_version = 29;
    EXPECT_TRUE(parse({"--server", "-B999999", "."}, "", old).ok);
    // --protocol changes the limit for what follows it.
    EXPECT_EQ(parse({"--server", "--protocol=31", "-B999999", "."}, "", old).error,
              "--block-size=999999 is too large (max: 128.00K)");
}

// Verifies that a long size value is cut to err_buf's 200 bytes (198 + newline).
TEST(ServerOptionErrors, ErrBufLimit)
{
    const std::string value(300, '9');
    std::string err;
    EXPECT_EQ(parse_size_arg(value + "x", 'b', "max-size", 0, -1, false, err), -1);
    EXPECT_EQ(err.size(), 199u);
    EXPECT_EQ(err.back(), '\n');
    const auto r = parse({"--server", "-M" + std::string(300, 'x'), "."});
    EXPECT_EQ(r.error.size(), 199u);
    EXPECT_EQ(r.client_message.size(), 7u + 199u); // no newline fits
}

// Verifies that invalid option combinations fail with upstream's texts.
TEST(ServerOptionErrors, Combinations)
{
    EXPECT_EQ(option_error({"--server", "--append", "-W", "."}),
              "--append cannot be used with --whole-file");
    EXPECT_EQ(option_error({"--server", "--inplace", "--partial-dir=x", "."}),
              "--inplace cannot be used with --partial-dir");
    EXPECT_EQ(option_error({"--server", "--append", "--delay-updates", "."}),
              "--append cannot be used with --delay-updates");
    EXPECT_EQ(option_error({"--server", "-XX", "--fake-super", "."}),
              "--fake-super conflicts with -XX");
    EXPECT_EQ(option_error({"--server", "--delete-before", "--delete-after", "-r", "."}),
              "You may not combine multiple --delete-WHEN options.");
    EXPECT_EQ(option_error({"--server", "--no-r", "--no-d", "--delete", "."}),
              "--delete does not work without --recursive (-r) or --dirs (-d).");
    EXPECT_EQ(option_error({"--server", "--read-batch=x", "--write-batch=y", "."}),
              "--write-batch and --read-batch can not be used together");
    EXPECT_EQ(option_error({"--server", "--link-dest=a", "--copy-dest=b", "."}),
              "ERROR: the --copy-dest option conflicts with the --link-dest option");
    EXPECT_EQ(option_error({"--server", "--suffix=a/b", "."}),
              "--suffix cannot contain slashes: a/b");
    EXPECT_EQ(option_error({"--server", "--suffix=", "."}),
              "--suffix cannot be empty without a --backup-dir");
    EXPECT_TRUE(parse({"--server", "--sender", "--suffix=", "."}).ok);
    EXPECT_EQ(option_error({"--server", "--backup-dir=./", "--suffix=", "."}),
              "--suffix cannot be empty when --backup-dir is the same as the dest dir");
    EXPECT_EQ(option_error({"--server", "--only-write-batch=" + std::string(257, 'b'), "."}),
              "the batch-file name must be 256 characters or less.");
    EXPECT_EQ(option_error({"--server", "--temp-dir=" + std::string(4086, 't'), "."}),
              "the --temp-dir path is WAY too long.");
    EXPECT_EQ(option_error({"--server", "--backup-dir=" + std::string(3969, 'b'), "."}),
              "the --backup-dir path is WAY too long.");
    EXPECT_EQ(option_error({"--server", "-s", "--old-args", "."}),
              "--secluded-args conflicts with --old-args.");
    EXPECT_EQ(option_error({"--server", "--chmod=zz", "."}),
              "Invalid argument passed to --chmod (zz)");
    EXPECT_EQ(option_error({"--server", "--stderr=x", "."}),
              "--stderr mode \"x\" is not one of errors, all, or client");
    EXPECT_TRUE(parse({"--server", "--stderr=a", "."}).ok);
    EXPECT_EQ(option_error({"--server", "--daemon", "."}), "Attempt to hack rsync thwarted!");
    EXPECT_EQ(option_error({"--server", "--config=x", "."}), "Attempt to hack rsync thwarted!");
    EXPECT_EQ(option_error({"--server", "-Mx", "."}), "Remote option must start with a dash: x");
    EXPECT_EQ(option_error({"--server", "--files-from=host:x", "."}),
              "The --files-from sent to the server cannot specify a host.");
    std::vector<std::string> many{"--server"};
    for (int i = 0; i < 21; ++i)
        many.push_back("--link-dest=d" + std::to_string(i));
    many.push_back(".");
    EXPECT_EQ(option_error(many), "ERROR: at most 20 --link-dest args may be specified");
}

// Verifies that missing build features turn options into errors (not refusals).
TEST(ServerOptionErrors, MissingFeatures)
{
    ServerParseContext ctx;
    ctx.features.acls = false;
    ctx.features.xattrs = false;
    ctx.features.hard_links = false;
    EXPECT_EQ(parse({"--server", "-A", "."}, "", ctx).error,
              "ACLs are not supported on this server");
    EXPECT_EQ(parse({"--server", "-X", "."}, "", ctx).error,
              "extended attributes are not supported on this server");
    EXPECT_EQ(parse({"--server", "-H", "."}, "", ctx).error,
              "hard links are not supported on this server");
    EXPECT_EQ(parse({"--server", "--fake-super", "."}, "", ctx).error,
              "--fake-super requires an rsync with extended attributes enabled");
}

// Verifies that where upstream exits inside parse_arguments the result is logged only, no request
// line.
TEST(ServerOptionErrors, ExitDuringParse)
{
    auto r = parse({"--server", "--version", "."});
    EXPECT_EQ(r.outcome, ParseOutcome::Exit);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_FALSE(r.log_request);
    EXPECT_TRUE(r.client_message.empty());

    r = parse({"--server", "--compress-choice=bogus", "."});
    EXPECT_EQ(r.outcome, ParseOutcome::Exit);
    EXPECT_EQ(r.exit_code, 4);
    EXPECT_EQ(r.error, "unknown compress name: bogus");

    r = parse({"--server", "--checksum-choice=bogus,md5", "."});
    EXPECT_EQ(r.error, "unknown checksum name: bogus,md5");
    r = parse({"--server", "--checksum-choice=md5,bogus", "."});
    EXPECT_EQ(r.error, "unknown checksum name: bogus");

    r = parse({"--server", "--help", "."});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.outcome, ParseOutcome::Exit);

    r = parse({"--info=bogus", "--server", "."});
    EXPECT_EQ(r.outcome, ParseOutcome::Exit);
    EXPECT_EQ(r.error, "Unknown --info item: \"bogus\"");
    EXPECT_EQ(r.exit_code, 1);

    r = parse({"--server", "--sender", "--files-from=-", ".", "/a", "/b"});
    EXPECT_EQ(r.outcome, ParseOutcome::Exit);
    EXPECT_EQ(r.exit_code, 1);
}

// Verifies that a failed parse leaves the state upstream's error path uses: the files-from byte and
// options stored before the failure.
TEST(ServerOptionErrors, FailureState)
{
    auto r = parse({"--server", "--files-from=-", "--bogus", "."});
    EXPECT_TRUE(r.files_from_seen);
    EXPECT_TRUE(r.options.files_from);
    r = parse({"--server", "--bogus", "--files-from=-", "."});
    EXPECT_TRUE(r.files_from_seen); // seen in the arguments though never parsed
    EXPECT_FALSE(r.options.files_from);
    r = parse({"--server", "--bogus", "."});
    EXPECT_FALSE(r.files_from_seen);
    // A refused --cc still stored its value (which then skips the checksum negotiation).
    r = parse({"--server", "--sender", "--cc=md5", "."}, "checksum-choice");
    EXPECT_EQ(r.error, "The server is configured to refuse --cc");
    EXPECT_EQ(r.options.checksum_choice, "md5");
    // An empty argv (not even argv[0]).
    const auto empty = parse_server_args({}, parse_refuse_options(""), ServerParseContext{});
    EXPECT_EQ(empty.error, "argc is zero!");
}
