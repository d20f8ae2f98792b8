// SPDX-License-Identifier: MIT
// Tests for the post-parse daemon policy: module refusals, overrides, caps, protocol setup.
#include "daemon/module_policy.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace ocr::daemon;

namespace {

ServerOptions parsed(std::vector<std::string> args, int protocol = 32)
{
    args.insert(args.begin(), "rsyncd");
    ServerParseContext ctx;
    ctx.protocol_version = protocol;
    const auto r = parse_server_args(args, parse_refuse_options(""), ctx);
    EXPECT_TRUE(r.ok) << r.error;
    return r.options;
}

} // namespace

// Verifies that read-only/write-only refusals have upstream's texts (checked against the real
// daemon).
TEST(ModulePolicy, ReadOnlyWriteOnly)
{
    const ServerOptions pull = parsed({"--server", "--sender", "-a", ".", "/"});
    const ServerOptions push = parsed({"--server", "-a", ".", "/"});
    EXPECT_FALSE(check_module_policy(pull, true, false));
    EXPECT_FALSE(check_module_policy(push, false, false));

    auto r = check_module_policy(push, true, false);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->message, "ERROR: module is read only\n");
    EXPECT_EQ(r->exit_code, 1);
    EXPECT_TRUE(r->sent_to_client);

    r = check_module_policy(pull, false, true);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->message, "ERROR: module is write only\n");

    const ServerOptions remove =
        parsed({"--server", "--sender", "--remove-source-files", ".", "/"});
    r = check_module_policy(remove, true, false);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->message, "ERROR: --remove-source-files cannot be used with a read-only module\n");
    // write only is checked first
    EXPECT_EQ(check_module_policy(remove, true, true)->message, "ERROR: module is write only\n");
    const ServerOptions sent = parsed({"--server", "--sender", "--remove-sent-files", ".", "/"});
    EXPECT_EQ(check_module_policy(sent, true, false)->message,
              "ERROR: --remove-sent-files cannot be used with a read-only module\n");
    EXPECT_FALSE(check_module_policy(remove, false, false));

    const ServerOptions no_args = parsed({"--server", "--sender", "-r"});
    EXPECT_EQ(check_module_policy(no_args, false, false)->message,
              "ERROR: do_server_sender called without args\n");
}

// Verifies that the timeout and bandwidth rules pick upstream's values.
TEST(ModulePolicy, TimeoutAndBwlimit)
{
    EXPECT_EQ(effective_timeout(0, 0), 0);
    EXPECT_EQ(effective_timeout(0, 30), 30);
    EXPECT_EQ(effective_timeout(60, 30), 30);
    EXPECT_EQ(effective_timeout(10, 30), 10);
    EXPECT_EQ(effective_timeout(10, 0), 10);
    EXPECT_EQ(effective_bwlimit(0, 100), 100);
    EXPECT_EQ(effective_bwlimit(500, 100), 100);
    EXPECT_EQ(effective_bwlimit(50, 100), 50);
    EXPECT_EQ(effective_bwlimit(50, 0), 50);
    EXPECT_EQ(bwlimit_writemax(0), 0u);
    EXPECT_EQ(bwlimit_writemax(1), 512u);
    EXPECT_EQ(bwlimit_writemax(100), 12800u);
}

// Verifies that rsync_module's post-parse adjustments are applied.
TEST(ModulePolicy, Overrides)
{
    ServerOptions o =
        parsed({"--server", "-vvvv", "--fake-super", "--timeout=100", "--only-write-batch=X", "-q",
                "--no-msgs2stderr", "--munge-links", "."});
    ModuleOverrides m;
    m.open_noatime = 1;
    m.ignore_errors = true;
    m.max_verbosity = 1;
    m.timeout = 30;
    m.use_chroot = true;
    apply_module_overrides(o, m);
    EXPECT_EQ(o.open_noatime, 1);
    EXPECT_EQ(o.munge_symlinks, 0);
    EXPECT_EQ(o.msgs2stderr, 0);
    EXPECT_EQ(o.quiet, 0);
    EXPECT_EQ(o.ignore_errors, 1);
    EXPECT_EQ(o.dry_run, 1);
    EXPECT_EQ(o.am_root, 2);      // a client's --fake-super acts as --super
    EXPECT_EQ(o.numeric_ids, -1); // chroot module, "numeric ids" unset, no name converter
    EXPECT_EQ(o.io_timeout, 30);
    EXPECT_EQ(o.info_levels[0], 0); // BACKUP (from -vv) capped at max verbosity 1

    ServerOptions f = parsed({"--server", "-XX", "."});
    ModuleOverrides fake;
    fake.fake_super = true;
    fake.use_chroot = false;
    apply_module_overrides(f, fake);
    EXPECT_EQ(f.am_root, -1);
    EXPECT_EQ(f.preserve_xattrs, 1);
    EXPECT_EQ(f.numeric_ids, 0); // not chrooted and not set to yes

    ServerOptions n = parsed({"--server", "."});
    ModuleOverrides conv;
    conv.name_converter = true;
    apply_module_overrides(n, conv);
    EXPECT_EQ(n.numeric_ids, 0);
}

// Verifies every combination of "numeric ids" with and without a chroot (upstream
// clientserver.c:rsync_module), which also decides whether a worker's filter lets the
// name service's local sockets in.
TEST(ModulePolicy, ModuleIdsNumeric)
{
    EXPECT_TRUE(module_ids_numeric(true, -1, false));
    EXPECT_TRUE(module_ids_numeric(true, 1, false));
    EXPECT_FALSE(module_ids_numeric(true, 0, false));
    EXPECT_FALSE(module_ids_numeric(true, -1, true));
    EXPECT_FALSE(module_ids_numeric(false, -1, false));
    EXPECT_FALSE(module_ids_numeric(false, 0, false));
    EXPECT_TRUE(module_ids_numeric(false, 1, false));
}

// Verifies that compat flags equal what the real 3.5.0 daemon sent for the same arguments.
TEST(ModulePolicy, CompatFlagsMatchUpstream)
{
    const ServerOptions pull = parsed({"--server", "--sender", "-logDtpre.iLsfxCIvu", ".", "/"});
    EXPECT_EQ(compute_compat_flags(pull, 32, true), 0x1ff);
    const ServerOptions push = parsed({"--server", "-logDtpre.iLsfxCIvu", ".", "/"});
    EXPECT_EQ(compute_compat_flags(push, 32, false), 0x1ff);
    const ServerOptions after =
        parsed({"--server", "-logDtpre.iLsfxCIvu", "--delete-after", ".", "/"});
    EXPECT_EQ(compute_compat_flags(after, 32, false), 0x1fe);
    EXPECT_EQ(compute_compat_flags(after, 32, true), 0x1ff); // only a receiving server cares
    const ServerOptions norec = parsed({"--server", "--sender", "-logDtpe.iLsfxCIvu", ".", "/"});
    EXPECT_EQ(compute_compat_flags(norec, 32, true), 0x1fe);
    const ServerOptions noi = parsed({"--server", "--sender", "-logDtpre.LsfxCIvu", ".", "/"});
    EXPECT_EQ(compute_compat_flags(noi, 32, true), 0x1fe);
    const ServerOptions old = parsed({"--server", "--sender", "-logDtpre.iLs", ".", "/"});
    EXPECT_EQ(compute_compat_flags(old, 32, true), 0x7);
    const ServerOptions nir =
        parsed({"--server", "--sender", "-logDtpre.iLsfxCIvu", "--no-i-r", ".", "/"});
    EXPECT_EQ(compute_compat_flags(nir, 32, true), 0x1fe);
    const ServerOptions none = parsed({"--server", "--sender", "-B", ".", "."});
    EXPECT_EQ(compute_compat_flags(none, 32, true), 0x6);
    EXPECT_EQ(compute_compat_flags(pull, 29, true), 0);
    ServerCapabilities plain;
    plain.symlink_iconv = false;
    EXPECT_EQ(compute_compat_flags(pull, 32, true, plain), 0x1fb);
}

// Verifies that the setup plan gets name negotiations, option changes and the "V" client right.
TEST(ModulePolicy, ProtocolSetupPlan)
{
    ServerOptions o = parsed({"--server", "--sender", "-logDtprze.iLsfxCIvu", ".", "/"});
    auto p = plan_protocol_setup(o);
    EXPECT_FALSE(p.rejection);
    EXPECT_TRUE(p.send_compat_flags);
    EXPECT_TRUE(p.negotiated_strings);
    EXPECT_TRUE(p.exchange_checksum_list);
    EXPECT_TRUE(p.exchange_compress_list);
    EXPECT_TRUE(p.inc_recurse);
    EXPECT_TRUE(p.proper_seed_order);
    EXPECT_TRUE(p.use_safe_inc_flist);
    EXPECT_TRUE(p.receiver_symlink_times);
    EXPECT_FALSE(p.want_xattr_optim);

    o = parsed({"--server", "--sender", "-logDtpre.iLsfxCIvu", "--checksum-choice=md5",
                "--new-compress", ".", "/"});
    p = plan_protocol_setup(o);
    EXPECT_FALSE(p.exchange_checksum_list);
    EXPECT_FALSE(p.exchange_compress_list);

    o = parsed({"--server", "-r", "--delete", "--append", ".", "/"}, 29);
    p = plan_protocol_setup(o);
    EXPECT_FALSE(p.send_compat_flags);
    EXPECT_FALSE(p.negotiated_strings);
    EXPECT_EQ(o.delete_before, 1);
    EXPECT_EQ(o.append_mode, 2);
    EXPECT_EQ(o.msgs2stderr, 2);

    o = parsed({"--server", "-r", "--delete", ".", "/"}, 28);
    (void)plan_protocol_setup(o);
    EXPECT_EQ(o.msgs2stderr, 0);

    o = parsed({"--server", "-r", "--delete", "-e.iLsfxCIvu", ".", "/"});
    p = plan_protocol_setup(o);
    EXPECT_EQ(o.delete_during, 1);
    EXPECT_TRUE(p.inc_recurse); // decided before the delete mode is filled in

    o = parsed({"--server", "--sender", "-re.iLsfxCIVu", ".", "/"});
    p = plan_protocol_setup(o);
    EXPECT_TRUE(p.compat_flags_as_byte);
    EXPECT_FALSE(p.negotiated_strings);
    EXPECT_EQ(p.compat_flags & 0xff, 0xff);

    o = parsed({"--server", "--only-write-batch=X", "-z", "-e.v", "."});
    p = plan_protocol_setup(o);
    EXPECT_EQ(p.forced_checksum_list, "md5");
    EXPECT_EQ(p.forced_compress_list, "zlib");

    o = parsed({"--server", "--checksum-seed=7", "."});
    EXPECT_EQ(plan_protocol_setup(o).checksum_seed, 7);
}

// Verifies that setup_protocol's protocol-dependent refusals are produced (logged only).
TEST(ModulePolicy, ProtocolSetupRejections)
{
    ServerOptions o = parsed({"--server", "-A", "."}, 29);
    auto p = plan_protocol_setup(o);
    ASSERT_TRUE(p.rejection);
    EXPECT_EQ(p.rejection->message, "--acls requires protocol 30 or higher (negotiated 29).\n");
    EXPECT_EQ(p.rejection->exit_code, 2);
    EXPECT_FALSE(p.rejection->sent_to_client);

    o = parsed({"--server", "-X", "."}, 29);
    EXPECT_EQ(plan_protocol_setup(o).rejection->message,
              "--xattrs requires protocol 30 or higher (negotiated 29).\n");
    o = parsed({"--server", "-y", "."}, 28);
    EXPECT_EQ(plan_protocol_setup(o).rejection->message,
              "--fuzzy requires protocol 29 or higher (negotiated 28).\n");
    o = parsed({"--server", "--inplace", "--copy-dest=a", "."}, 28);
    EXPECT_EQ(plan_protocol_setup(o).rejection->message,
              "--copy-dest with --inplace requires protocol 29 or higher (negotiated 28).\n");
    o = parsed({"--server", "--link-dest=a", "--link-dest=b", "."}, 28);
    EXPECT_EQ(
        plan_protocol_setup(o).rejection->message,
        "Using more than one --link-dest option requires protocol 29 or higher (negotiated 28).\n");
    o = parsed({"--server", "-m", "."}, 28);
    EXPECT_EQ(plan_protocol_setup(o).rejection->message,
              "--prune-empty-dirs requires protocol 29 or higher (negotiated 28).\n");
    o = parsed({"--server", "--protocol=19", "."});
    EXPECT_EQ(plan_protocol_setup(o).rejection->message,
              "--protocol must be at least 20 on the Server.\n");
    o = parsed({"--server", "--protocol=33", "."});
    EXPECT_EQ(plan_protocol_setup(o).rejection->message,
              "--protocol must be no more than 32 on the Server.\n");
    o = parsed({"--server", "-e.iLs", "."});
    o.preserve_crtimes = 1; // only reachable with a build that supports crtimes
    EXPECT_EQ(plan_protocol_setup(o).rejection->message,
              "Both rsync versions must be at least 3.2.0 for --crtimes.\n");
    o = parsed({"--server", "-A", "."}, 30);
    EXPECT_FALSE(plan_protocol_setup(o).rejection);
}
