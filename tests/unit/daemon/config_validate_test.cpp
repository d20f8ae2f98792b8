// SPDX-License-Identifier: MIT
// Tests of validate_config() (--check-config) with a faked filesystem and user database.
#include "daemon/config_validate.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <set>

#include <unistd.h>

namespace ocr::daemon {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::string kConf = "/etc/rsyncd.conf";

class FakeEnv final : public ValidationEnvironment {
public:
    std::set<std::string> dirs{"/srv/a", "/srv/b", "/jail/srv/a"};
    std::set<std::string> users{"alice", "nobody"};
    std::set<std::string> groups{"staff", "nogroup", "my group"};
    bool root = true;

    bool is_dir(const std::string& path) const override { return dirs.count(path) != 0; }
    bool user_exists(const std::string& name) const override { return users.count(name) != 0; }
    bool group_exists(const std::string& name) const override { return groups.count(name) != 0; }
    bool running_as_root() const override { return root; }
};

struct Loaded {
    LoadResult result;
    std::vector<std::string> problems; // from validate_config
};

Loaded check(const std::string& text, const FakeEnv& env = FakeEnv{}, FileBundle extra = {})
{
    extra.record_read(kConf, FileData{text, 0100644, 0, false});
    BundleFileSource src(std::move(extra));
    LoadOptions opts;
    opts.config_path = kConf;
    Loaded l{load_config(opts, src), {}};
    if (!l.result.config)
        throw std::runtime_error("config did not load");
    for (const auto& p : validate_config(*l.result.config, env))
        l.problems.push_back(format_problem(p));
    return l;
}

FileBundle with_file(const std::string& path, mode_t mode, uid_t uid,
                     const std::string& text = "u:p\n")
{
    FileBundle b;
    b.record_read(path, FileData{text, mode, uid, false});
    return b;
}

// Verifies that a sound configuration has no problems.
TEST(ConfigValidate, CleanConfig)
{
    auto l = check("uid = nobody\ngid = nogroup\n[a]\npath = /srv/a\n"
                   "auth users = alice\nsecrets file = /etc/s\n"
                   "[b]\npath = /srv/b/\nuid = 1000\ngid = *, staff 50\n",
                   FakeEnv{}, with_file("/etc/s", 0100600, 0));
    EXPECT_THAT(l.result.problems, IsEmpty());
    EXPECT_THAT(l.problems, IsEmpty());
}

// Verifies the module header location for a module without path.
TEST(ConfigValidate, MissingPath)
{
    auto l = check("[a]\npath = /srv/a\n\n[nopath]\ncomment = x\n");
    EXPECT_THAT(l.problems,
                ElementsAre("/etc/rsyncd.conf:4: module \"nopath\" has no \"path\" setting"));
}

// Verifies that a path that is not a directory is reported at the path line, unless it
// holds a %VAR%.
TEST(ConfigValidate, PathNotADirectory)
{
    auto l = check("[a]\ncomment = x\npath = /srv/none\n[b]\npath = /home/%RSYNC_USER_NAME%\n");
    EXPECT_THAT(l.problems, ElementsAre("/etc/rsyncd.conf:3: \"path\" \"/srv/none\" is not an "
                                        "existing directory"));
}

// Verifies that module paths are checked below "daemon chroot".
TEST(ConfigValidate, PathBelowDaemonChroot)
{
    auto l = check("daemon chroot = /jail/\n[a]\npath = /srv/a\n[b]\npath = /srv/b\n");
    EXPECT_THAT(l.problems,
                ElementsAre(HasSubstr(":5: \"path\" \"/jail/srv/b\" is not an existing")));
}

// Verifies uid/gid resolution: names must exist, numbers always do, %VAR% is skipped,
// "*" must come first, a leading comma splits on commas only.
TEST(ConfigValidate, UidAndGid)
{
    auto l = check("[a]\npath = /srv/a\nuid = bob\ngid = staff, wheel\n"
                   "[b]\npath = /srv/b\nuid = %RSYNC_USER_NAME%\ngid = 0 *\n"
                   "[c]\npath = /srv/a\ngid = ,my group, staff\n"
                   "[d]\npath = /srv/a\ngid = my group\n");
    EXPECT_THAT(l.problems,
                ElementsAre("/etc/rsyncd.conf:3: \"uid\" names an unknown user \"bob\"",
                            "/etc/rsyncd.conf:4: \"gid\" names an unknown group \"wheel\"",
                            "/etc/rsyncd.conf:8: \"gid\": \"*\" (all groups of the user) must "
                            "come first",
                            "/etc/rsyncd.conf:14: \"gid\" names an unknown group \"my\"",
                            "/etc/rsyncd.conf:14: \"gid\" names an unknown group \"group\""));
}

// Verifies daemon uid / daemon gid resolution.
TEST(ConfigValidate, DaemonUidGid)
{
    auto l = check("daemon uid = ghost\ndaemon gid = ghosts\n");
    EXPECT_THAT(l.problems, ElementsAre(HasSubstr(":1: \"daemon uid\" names an unknown user"),
                                        HasSubstr(":2: \"daemon gid\" names an unknown group")));
}

// Verifies "auth users" without "secrets file".
TEST(ConfigValidate, AuthUsersWithoutSecrets)
{
    auto l = check("[a]\npath = /srv/a\nauth users = alice\n");
    EXPECT_THAT(l.problems, ElementsAre(HasSubstr(":3: \"auth users\" is set but \"secrets file\" "
                                                  "is not")));
}

// Verifies the secrets file checks: unreadable, other-accessible, not root-owned when root,
// and that strict modes = no skips the mode checks.
TEST(ConfigValidate, SecretsFile)
{
    auto l = check("[a]\npath = /srv/a\nauth users = alice\nsecrets file = /etc/missing\n");
    EXPECT_THAT(l.problems, ElementsAre("/etc/rsyncd.conf:4: \"secrets file\" \"/etc/missing\" "
                                        "cannot be read: No such file or directory"));

    l = check("[a]\npath = /srv/a\nauth users = alice\nsecrets file = /etc/s\n", FakeEnv{},
              with_file("/etc/s", 0100644, 0));
    EXPECT_THAT(l.problems, ElementsAre(HasSubstr(":4: \"secrets file\" \"/etc/s\" must not be "
                                                  "other-accessible while \"strict modes\" is on "
                                                  "(mode 0644)")));

    l = check("[a]\npath = /srv/a\nauth users = alice\nsecrets file = /etc/s\n", FakeEnv{},
              with_file("/etc/s", 0100600, 1000));
    EXPECT_THAT(l.problems,
                ElementsAre(HasSubstr(":4: \"secrets file\" \"/etc/s\" must be owned by "
                                      "root when the daemon runs as root (owner uid "
                                      "1000)")));

    FakeEnv user;
    user.root = false;
    l = check("[a]\npath = /srv/a\nauth users = alice\nsecrets file = /etc/s\n", user,
              with_file("/etc/s", 0100600, 1000));
    EXPECT_THAT(l.problems, IsEmpty());

    l = check("strict modes = no\n[a]\npath = /srv/a\nauth users = alice\nsecrets file = /etc/s\n",
              FakeEnv{}, with_file("/etc/s", 0100666, 1000));
    EXPECT_THAT(l.problems, IsEmpty());
}

// Verifies that a secrets file set globally is reported once, at its global line.
TEST(ConfigValidate, InheritedProblemReportedOnce)
{
    auto l = check("auth users = alice\nsecrets file = /etc/missing\n[a]\npath = /srv/a\n"
                   "[b]\npath = /srv/b\n");
    EXPECT_THAT(l.problems, ElementsAre(HasSubstr(":2: \"secrets file\" \"/etc/missing\" cannot "
                                                  "be read")));
}

// Verifies that an unreadable motd file is reported.
TEST(ConfigValidate, MotdUnreadable)
{
    FileBundle b;
    b.record_read("/etc/motd", FileError{EACCES});
    auto l = check("\nmotd file = /etc/motd\n", FakeEnv{}, std::move(b));
    EXPECT_THAT(l.problems, ElementsAre("/etc/rsyncd.conf:2: \"motd file\" \"/etc/motd\" cannot be "
                                        "read: Permission denied"));
    auto ok =
        check("motd file = /etc/motd\n", FakeEnv{}, with_file("/etc/motd", 0100644, 0, "hi\n"));
    EXPECT_THAT(ok.problems, IsEmpty());
}

// Verifies the worker-count relation.
TEST(ConfigValidate, SpareWorkers)
{
    auto l = check("transfer workers = 4\nspare workers = 5\n");
    EXPECT_THAT(l.problems, ElementsAre("/etc/rsyncd.conf:2: \"spare workers\" (5) is larger than "
                                        "\"transfer workers\" (4)"));
    EXPECT_THAT(check("transfer workers = 4\nspare workers = 4\n").problems, IsEmpty());
    EXPECT_THAT(check("spare workers = 500\n").problems, IsEmpty());
}

// Verifies the TLS pairings.
TEST(ConfigValidate, TlsSettings)
{
    EXPECT_THAT(check("tls key file = /k\n").problems,
                ElementsAre(HasSubstr(":1: \"tls key file\" is set but \"tls cert file\" is not")));
    EXPECT_THAT(check("tls cert file = /c\n").problems,
                ElementsAre(HasSubstr(":1: \"tls cert file\" is set but \"tls key file\" is not")));
    EXPECT_THAT(
        check("tls cert file = /c\ntls key file = /k\ntls verify client = optional\n").problems,
        ElementsAre(HasSubstr(":3: \"tls verify client\" needs \"tls ca file\"")));
    EXPECT_THAT(check("tls cert file = /c\ntls key file = /k\ntls user from = cn\n").problems,
                ElementsAre(HasSubstr(":3: \"tls user from\" needs \"tls verify client\"")));
    EXPECT_THAT(check("tls cert file = /c\ntls key file = /k\ntls ca file = /ca\n"
                      "tls verify client = require\ntls user from = san-email\n")
                    .problems,
                IsEmpty());
}

// Verifies that "plain listener = no" is a problem, at its own line, only when no TLS
// listener is configured (no "tls cert file"), and that listener_problem() says the same.
TEST(ConfigValidate, PlainListenerNeedsTls)
{
    const std::string expected = "/etc/rsyncd.conf:2: \"plain listener\" is off but \"tls cert "
                                 "file\" is not set, so there is no port to listen on";
    auto l = check("port = 8873\nplain listener = no\n[a]\npath = /srv/a\n");
    EXPECT_THAT(l.problems, ElementsAre(expected));
    auto direct = listener_problem(l.result.config->globals());
    ASSERT_TRUE(direct);
    EXPECT_EQ("/etc/rsyncd.conf:2: " + *direct, expected);
    // A key without a certificate opens no TLS port either.
    EXPECT_THAT(check("tls key file = /k\nplain listener = no\n").problems,
                ElementsAre(HasSubstr(":1: \"tls key file\" is set but"),
                            HasSubstr(":2: \"plain listener\" is off")));
    EXPECT_THAT(check("plain listener = no\ntls cert file = /c\ntls key file = /k\n").problems,
                IsEmpty());
    EXPECT_THAT(check("plain listener = yes\n").problems, IsEmpty());
    GlobalSettings g;
    EXPECT_EQ(listener_problem(g), std::nullopt);
    g.plain_listener = false;
    EXPECT_TRUE(listener_problem(g));
    g.tls_cert_file = "/c";
    EXPECT_EQ(listener_problem(g), std::nullopt);
}

// Verifies that proxy protocol without trusted hosts is an error (nothing could connect).
TEST(ConfigValidate, ProxyProtocolWithoutHosts)
{
    auto l = check("\n\nproxy protocol = yes\n");
    ASSERT_EQ(l.problems.size(), 1u);
    EXPECT_THAT(l.problems[0],
                HasSubstr("/etc/rsyncd.conf:3: \"proxy protocol\" is on but "
                          "\"proxy protocol hosts\" is not set"));
    EXPECT_THAT(check("proxy protocol = yes\nproxy protocol hosts = 127.0.0.1\n").problems,
                IsEmpty());
}

// Verifies that a negative max connections (module disabled) is legal.
TEST(ConfigValidate, NegativeMaxConnectionsIsLegal)
{
    EXPECT_THAT(check("[a]\npath = /srv/a\nmax connections = -1\n").problems, IsEmpty());
}

// Verifies that a numeric syslog facility must be a real facility.
TEST(ConfigValidate, SyslogFacility)
{
    EXPECT_THAT(check("syslog facility = 99\n").problems,
                ElementsAre("/etc/rsyncd.conf:1: \"syslog facility\" 99 is not a known syslog "
                            "facility"));
    EXPECT_THAT(check("syslog facility = 184\n").problems, IsEmpty()); // LOG_LOCAL7
    EXPECT_THAT(check("[a]\npath = /srv/a\nsyslog facility = 7\n").problems,
                ElementsAre(HasSubstr(":3: \"syslog facility\" 7 is not")));
}

// Verifies the auth digest names.
TEST(ConfigValidate, AuthDigest)
{
    EXPECT_THAT(check("[a]\npath = /srv/a\nauth digest = SHA256\n").problems, IsEmpty());
    for (auto name : {"sha512", "sha1", "md5", "md4"})
        EXPECT_THAT(check(std::string("[a]\npath = /srv/a\nauth digest = ") + name + "\n").problems,
                    IsEmpty())
            << name;
    EXPECT_THAT(check("[a]\npath = /srv/a\nauth digest = sha3\n").problems,
                ElementsAre(HasSubstr(":3: \"auth digest\" \"sha3\" is not one of sha512, sha256, "
                                      "sha1, md5, md4")));
}

// Verifies the real system environment against things every Linux system has.
TEST(ConfigValidate, SystemEnvironment)
{
    SystemValidationEnvironment env;
    EXPECT_TRUE(env.is_dir("/"));
    EXPECT_FALSE(env.is_dir("/etc/passwd"));
    EXPECT_TRUE(env.user_exists("root"));
    EXPECT_FALSE(env.user_exists("no-such-user-ocr"));
    EXPECT_TRUE(env.group_exists("root"));
    EXPECT_FALSE(env.group_exists("no-such-group-ocr"));
    EXPECT_EQ(env.running_as_root(), ::geteuid() == 0);
}

} // namespace
} // namespace ocr::daemon
