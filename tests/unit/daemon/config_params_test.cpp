// SPDX-License-Identifier: MIT
// Tests of the parameter table: names, defaults, and typed value parsing.
#include "daemon/config_params.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>

namespace ocr::daemon {
namespace {

using ::testing::HasSubstr;

struct Expected {
    bool global;
    std::string value;
};

// Upstream 3.5.0's daemon-parm.txt, written out by hand: name -> (is global, default).
// NULL strings are "", BOOL3 Unset is "unset", LOG_DAEMON is "daemon".
const std::map<std::string, Expected> kUpstreamDefaults = {
    {"address", {true, ""}},
    {"daemon chroot", {true, ""}},
    {"daemon gid", {true, ""}},
    {"daemon uid", {true, ""}},
    {"motd file", {true, ""}},
    {"pid file", {true, ""}},
    {"proxy protocol hosts", {true, ""}},
    {"socket options", {true, ""}},
    {"listen backlog", {true, "5"}},
    {"port", {true, "0"}},
    {"proxy protocol", {true, "no"}},
    {"auth digest", {false, ""}},
    {"auth users", {false, ""}},
    {"charset", {false, ""}},
    {"comment", {false, ""}},
    {"dont compress", {false, std::string(kDefaultDontCompress)}},
    {"early exec", {false, ""}},
    {"exclude", {false, ""}},
    {"exclude from", {false, ""}},
    {"filter", {false, ""}},
    {"gid", {false, ""}},
    {"hosts allow", {false, ""}},
    {"hosts deny", {false, ""}},
    {"include", {false, ""}},
    {"include from", {false, ""}},
    {"incoming chmod", {false, ""}},
    {"lock file", {false, "/var/run/rsyncd.lock"}},
    {"log file", {false, ""}},
    {"log format", {false, "%o %h [%a] %m (%u) %f %l"}},
    {"name", {false, ""}},
    {"name converter", {false, ""}},
    {"outgoing chmod", {false, ""}},
    {"post-xfer exec", {false, ""}},
    {"pre-xfer exec", {false, ""}},
    {"refuse options", {false, ""}},
    {"secrets file", {false, ""}},
    {"syslog tag", {false, "rsyncd"}},
    {"uid", {false, ""}},
    {"path", {false, ""}},
    {"temp dir", {false, ""}},
    {"max connections", {false, "0"}},
    {"max verbosity", {false, "1"}},
    {"timeout", {false, "0"}},
    {"syslog facility", {false, "daemon"}},
    {"fake super", {false, "no"}},
    {"forward lookup", {false, "yes"}},
    {"ignore errors", {false, "no"}},
    {"ignore nonreadable", {false, "no"}},
    {"insecure links", {false, "no"}},
    {"list", {false, "yes"}},
    {"read only", {false, "yes"}},
    {"reverse lookup", {false, "yes"}},
    {"strict modes", {false, "yes"}},
    {"transfer logging", {false, "no"}},
    {"write only", {false, "no"}},
    {"munge symlinks", {false, "unset"}},
    {"numeric ids", {false, "unset"}},
    {"open noatime", {false, "unset"}},
    {"use chroot", {false, "unset"}},
};

const std::map<std::string, Expected> kExtensionDefaults = {
    {"transfer workers", {true, "0"}},   {"spare workers", {true, "-1"}},
    {"handshake timeout", {true, "60"}}, {"daemon max connections", {true, "4096"}},
    {"plain listener", {true, "yes"}},
    {"tls port", {true, "0"}},           {"tls address", {true, ""}},
    {"tls cert file", {true, ""}},       {"tls key file", {true, ""}},
    {"tls ca file", {true, ""}},         {"tls verify client", {true, "no"}},
    {"tls min version", {true, "1.2"}},  {"tls ciphers", {true, ""}},
    {"tls ciphersuites", {true, ""}},    {"tls user from", {true, "none"}},
    {"tls only", {false, "no"}},
};

// Verifies that the table holds exactly upstream's parameters plus the extensions, each
// with upstream's scope and default.
TEST(ConfigParams, EveryParameterWithItsDefault)
{
    GlobalSettings g;
    ModuleSettings m;
    std::set<std::string> seen;
    for (const auto& p : all_params()) {
        std::string label(p.label);
        EXPECT_TRUE(seen.insert(label).second) << "duplicate " << label;
        const auto& table = p.extension ? kExtensionDefaults : kUpstreamDefaults;
        auto it = table.find(label);
        ASSERT_NE(it, table.end()) << "unexpected parameter " << label;
        EXPECT_EQ(p.global, it->second.global) << label;
        EXPECT_EQ(format_param(p, g, m), it->second.value) << label;
    }
    EXPECT_EQ(seen.size(), kUpstreamDefaults.size() + kExtensionDefaults.size());
}

// Verifies upstream's DEFAULT_DONT_COMPRESS list and the lock file default.
TEST(ConfigParams, CompiledInDefaults)
{
    ModuleSettings m;
    EXPECT_TRUE(m.dont_compress.starts_with("*.3g2 *.3gp *.7z *.aac"));
    EXPECT_TRUE(m.dont_compress.ends_with("*.xz *.z *.zip *.zst"));
    EXPECT_EQ(std::count(m.dont_compress.begin(), m.dont_compress.end(), '*'), 96);
    EXPECT_EQ(m.lock_file, "/var/run/rsyncd.lock");
    EXPECT_EQ(m.syslog_facility, LOG_DAEMON);
}

// Verifies that names compare case- and white-space-insensitively.
TEST(ConfigParams, NameMatching)
{
    EXPECT_TRUE(names_equal("max connections", "MaxConnections"));
    EXPECT_TRUE(names_equal("max connections", "  max   connections "));
    EXPECT_TRUE(names_equal("pid file", "pidfile"));
    EXPECT_FALSE(names_equal("max connections", "max connection"));
    EXPECT_FALSE(names_equal("post-xfer exec", "postxfer exec"));
    ASSERT_NE(find_param("MAX CONNECTIONS"), nullptr);
    EXPECT_EQ(find_param("MAX CONNECTIONS")->label, "max connections");
    EXPECT_EQ(find_param("max conections"), nullptr);
    EXPECT_EQ(find_param("PostXfer Exec"), nullptr);
    ASSERT_NE(find_param("post-xferexec"), nullptr);
}

// Verifies that "address" / "bind address" and "port" / "rsync port" are the same.
TEST(ConfigParams, Aliases)
{
    ASSERT_NE(find_param("address"), nullptr);
    EXPECT_EQ(find_param("bind address"), find_param("address"));
    EXPECT_EQ(find_param("bindaddress"), find_param("address"));
    ASSERT_NE(find_param("port"), nullptr);
    EXPECT_EQ(find_param("rsync port"), find_param("port"));
}

// Verifies upstream's boolean spellings, including white space inside the word.
TEST(ConfigParams, Booleans)
{
    for (auto v : {"yes", "YES", "True", "1", "y es"})
        EXPECT_EQ(parse_bool(v), true) << v;
    for (auto v : {"no", "No", "FALSE", "0"})
        EXPECT_EQ(parse_bool(v), false) << v;
    for (auto v : {"maybe", "on", "off", "", "2", "unset"})
        EXPECT_EQ(parse_bool(v), std::nullopt) << v;
    EXPECT_EQ(parse_bool3("unset"), Bool3::Unset);
    EXPECT_EQ(parse_bool3("UNSET"), Bool3::Unset);
    EXPECT_EQ(parse_bool3("-1"), Bool3::Unset);
    EXPECT_EQ(parse_bool3("yes"), Bool3::True);
    EXPECT_EQ(parse_bool3("0"), Bool3::False);
    EXPECT_EQ(parse_bool3("maybe"), std::nullopt);
}

// Verifies that "plain listener" is a global extension that takes upstream's boolean
// spellings and refuses anything else, leaving the value as it was.
TEST(ConfigParams, PlainListener)
{
    const ParamInfo* p = find_param("Plain Listener");
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->label, "plain listener");
    EXPECT_TRUE(p->global);
    EXPECT_TRUE(p->extension);
    EXPECT_EQ(p->type, ParamType::Bool);
    GlobalSettings g;
    ModuleSettings m;
    EXPECT_TRUE(g.plain_listener);
    EXPECT_FALSE(apply_param(*p, "no", g, m));
    EXPECT_FALSE(g.plain_listener);
    EXPECT_EQ(format_param(*p, g, m), "no");
    auto err = apply_param(*p, "off", g, m);
    ASSERT_TRUE(err);
    EXPECT_EQ(*err, "\"plain listener\" expects a boolean (yes/no), got \"off\"");
    EXPECT_FALSE(g.plain_listener);
    EXPECT_FALSE(apply_param(*p, "True", g, m));
    EXPECT_TRUE(g.plain_listener);
}

// Verifies that bad booleans are reported with the parameter name and leave the value.
TEST(ConfigParams, BadBooleanMessage)
{
    GlobalSettings g;
    ModuleSettings m;
    auto err = apply_param(*find_param("read only"), "maybe", g, m);
    ASSERT_TRUE(err);
    EXPECT_EQ(*err, "\"read only\" expects a boolean (yes/no), got \"maybe\"");
    EXPECT_TRUE(m.read_only);
    EXPECT_FALSE(apply_param(*find_param("read only"), "false", g, m));
    EXPECT_FALSE(m.read_only);
    err = apply_param(*find_param("use chroot"), "perhaps", g, m);
    ASSERT_TRUE(err);
    EXPECT_THAT(*err, HasSubstr("\"use chroot\" expects a boolean (yes/no) or \"unset\""));
}

// Verifies that integers must be whole numbers and respect their ranges.
TEST(ConfigParams, Integers)
{
    GlobalSettings g;
    ModuleSettings m;
    const ParamInfo& mc = *find_param("max connections");
    EXPECT_FALSE(apply_param(mc, "-1", g, m));
    EXPECT_EQ(m.max_connections, -1);
    EXPECT_FALSE(apply_param(mc, "+25", g, m));
    EXPECT_EQ(m.max_connections, 25);
    for (auto bad : {"10k", "ten", "", "1.5", "0x10", "99999999999"}) {
        auto err = apply_param(mc, bad, g, m);
        ASSERT_TRUE(err) << bad;
        EXPECT_THAT(*err, HasSubstr("\"max connections\" expects an integer")) << bad;
    }
    EXPECT_EQ(m.max_connections, 25);

    auto err = apply_param(*find_param("transfer workers"), "0", g, m);
    ASSERT_TRUE(err);
    EXPECT_EQ(*err, "\"transfer workers\" must be at least 1, got \"0\"");
    err = apply_param(*find_param("port"), "70000", g, m);
    ASSERT_TRUE(err);
    EXPECT_EQ(*err, "\"port\" must be between 0 and 65535, got \"70000\"");
    EXPECT_FALSE(apply_param(*find_param("spare workers"), "0", g, m));
    EXPECT_EQ(g.spare_workers, 0);
    EXPECT_TRUE(apply_param(*find_param("spare workers"), "-1", g, m));
    EXPECT_TRUE(apply_param(*find_param("handshake timeout"), "0", g, m));
    EXPECT_FALSE(apply_param(*find_param("daemon max connections"), "0", g, m));
    EXPECT_EQ(g.daemon_max_connections, 0);
}

// Verifies syslog facility names (case-insensitive, "security" = auth) and numbers.
TEST(ConfigParams, SyslogFacility)
{
    GlobalSettings g;
    ModuleSettings m;
    const ParamInfo& f = *find_param("syslog facility");
    EXPECT_FALSE(apply_param(f, "LOCAL3", g, m));
    EXPECT_EQ(m.syslog_facility, LOG_LOCAL3);
    EXPECT_FALSE(apply_param(f, "security", g, m));
    EXPECT_EQ(m.syslog_facility, LOG_AUTH);
    EXPECT_FALSE(apply_param(f, "128", g, m));
    EXPECT_EQ(m.syslog_facility, 128);
    EXPECT_TRUE(apply_param(f, "local8", g, m));
    EXPECT_TRUE(apply_param(f, "0", g, m));
    EXPECT_EQ(m.syslog_facility, 128);
    for (auto name : {"auth", "authpriv", "cron", "daemon", "ftp", "kern", "lpr", "mail", "news",
                      "syslog", "user", "uucp", "local0", "local7"})
        EXPECT_TRUE(syslog_facility_from_name(name)) << name;
    EXPECT_EQ(syslog_facility_name(LOG_AUTH), "auth");
    EXPECT_EQ(syslog_facility_name(12345), "");
}

// Verifies the extension enums and their error messages.
TEST(ConfigParams, TlsEnums)
{
    GlobalSettings g;
    ModuleSettings m;
    EXPECT_FALSE(apply_param(*find_param("tls verify client"), "Require", g, m));
    EXPECT_EQ(g.tls_verify_client, TlsVerifyClient::Require);
    EXPECT_FALSE(apply_param(*find_param("tls min version"), "1.3", g, m));
    EXPECT_EQ(g.tls_min_version, TlsVersion::Tls13);
    EXPECT_FALSE(apply_param(*find_param("tls user from"), "san-email", g, m));
    EXPECT_EQ(g.tls_user_from, TlsUserFrom::SanEmail);
    auto err = apply_param(*find_param("tls verify client"), "yes", g, m);
    ASSERT_TRUE(err);
    EXPECT_EQ(*err, "\"tls verify client\" expects no, optional or require, got \"yes\"");
    EXPECT_TRUE(apply_param(*find_param("tls min version"), "1.1", g, m));
    EXPECT_EQ(g.tls_min_version, TlsVersion::Tls13);
}

// Verifies that path parameters lose trailing slashes but "/" stays.
TEST(ConfigParams, PathTrailingSlashes)
{
    GlobalSettings g;
    ModuleSettings m;
    EXPECT_FALSE(apply_param(*find_param("path"), "/srv/rsync//", g, m));
    EXPECT_EQ(m.path, "/srv/rsync");
    EXPECT_FALSE(apply_param(*find_param("path"), "///", g, m));
    EXPECT_EQ(m.path, "/");
    EXPECT_FALSE(apply_param(*find_param("comment"), "trailing/", g, m));
    EXPECT_EQ(m.comment, "trailing/");
}

// Verifies that format_param() gives text that apply_param() reads back to the same value.
TEST(ConfigParams, FormatRoundTrip)
{
    GlobalSettings g;
    ModuleSettings m;
    ASSERT_FALSE(apply_param(*find_param("numeric ids"), "no", g, m));
    ASSERT_FALSE(apply_param(*find_param("syslog facility"), "local5", g, m));
    ASSERT_FALSE(apply_param(*find_param("tls user from"), "cn", g, m));
    for (const auto& p : all_params()) {
        GlobalSettings g2;
        ModuleSettings m2;
        std::string text = format_param(p, g, m);
        // Their defaults are sentinels ("decided by the daemon") that cannot be written.
        if (p.label == "transfer workers" || p.label == "spare workers")
            continue;
        if (p.type == ParamType::Integer || p.type == ParamType::Bool || p.type == ParamType::Bool3
            || p.type == ParamType::Enum) {
            EXPECT_FALSE(apply_param(p, text, g2, m2)) << p.label;
            EXPECT_EQ(format_param(p, g2, m2), text) << p.label;
        }
    }
}

} // namespace
} // namespace ocr::daemon
