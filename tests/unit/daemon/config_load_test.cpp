// SPDX-License-Identifier: MIT
// Tests of load_config(): defaults, modules, includes, --dparam, --module, bundle replay.
#include "daemon/config.hpp"

#include "daemon/config_params.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace ocr::daemon {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::string kConf = "/etc/rsyncd.conf";

// An in-memory filesystem built on FileBundle.
class Files {
public:
    Files& file(const std::string& path, const std::string& text, mode_t mode = 0100644,
                uid_t uid = 0)
    {
        b_.record_read(path, FileData{text, mode, uid, false});
        b_.record_is_dir(path, false);
        return *this;
    }
    Files& dir(const std::string& path, std::vector<std::string> names)
    {
        b_.record_is_dir(path, true);
        b_.record_list(path, std::move(names));
        b_.record_read(path, FileData{"", 040755, 0, true});
        return *this;
    }
    Files& error(const std::string& path, int e)
    {
        b_.record_read(path, FileError{e});
        return *this;
    }
    [[nodiscard]] const FileBundle& bundle() const { return b_; }

private:
    FileBundle b_;
};

LoadResult load(const Files& files, LoadOptions opts = {})
{
    if (!opts.config_path)
        opts.config_path = kConf;
    BundleFileSource src(files.bundle());
    return load_config(opts, src);
}

LoadResult load_text(const std::string& text, LoadOptions opts = {})
{
    return load(Files().file(kConf, text), std::move(opts));
}

std::vector<std::string> messages(const LoadResult& r)
{
    std::vector<std::string> out;
    for (const auto& p : r.problems)
        out.push_back(format_problem(p));
    return out;
}

const ModuleSettings& module(const LoadResult& r, std::string_view name)
{
    const ModuleSettings* m = r.config->find_module(name);
    if (m == nullptr)
        throw std::runtime_error("no module " + std::string(name));
    return *m;
}

// Verifies that an empty config gives the built-in defaults and no modules.
TEST(ConfigLoad, EmptyConfig)
{
    auto r = load_text("");
    ASSERT_TRUE(r.config);
    EXPECT_THAT(r.problems, IsEmpty());
    EXPECT_THAT(r.config->modules(), IsEmpty());
    EXPECT_EQ(r.config->globals(), GlobalSettings{});
    EXPECT_EQ(r.config->defaults(), ModuleSettings{});
}

// Verifies that globals are stored, and module parameters in the global section become
// the defaults of every module (and of lp_xxx(-1)).
TEST(ConfigLoad, GlobalSectionDefaults)
{
    auto r = load_text("pid file = /run/rsyncd.pid\n"
                       "port = 8873\n"
                       "read only = no\n"
                       "timeout = 300\n"
                       "reverse lookup = no\n"
                       "[a]\n"
                       "path = /srv/a\n"
                       "[b]\n"
                       "path = /srv/b\n"
                       "read only = yes\n");
    ASSERT_TRUE(r.config);
    EXPECT_THAT(r.problems, IsEmpty());
    EXPECT_EQ(r.config->globals().pid_file, "/run/rsyncd.pid");
    EXPECT_EQ(r.config->globals().rsync_port, 8873);
    EXPECT_FALSE(r.config->defaults().read_only);
    EXPECT_EQ(r.config->defaults().timeout, 300);
    EXPECT_FALSE(r.config->defaults().reverse_lookup);
    EXPECT_FALSE(module(r, "a").read_only);
    EXPECT_EQ(module(r, "a").timeout, 300);
    EXPECT_TRUE(module(r, "b").read_only);
    EXPECT_EQ(module(r, "b").path, "/srv/b");
    ASSERT_EQ(r.config->modules().size(), 2u);
    EXPECT_EQ(r.config->modules()[0].name, "a");
    EXPECT_EQ(r.config->modules()[1].name, "b");
}

// Verifies where each parameter was set, including values inherited from the globals.
TEST(ConfigLoad, Locations)
{
    auto r = load_text("read only = no\n\n[a]\npath = /srv/a\n");
    ASSERT_TRUE(r.config);
    const auto& a = module(r, "a");
    EXPECT_EQ(a.defined_at, (SourceLocation{kConf, 3}));
    ASSERT_NE(a.where_set("path"), nullptr);
    EXPECT_EQ(*a.where_set("path"), (SourceLocation{kConf, 4}));
    ASSERT_NE(a.where_set("read only"), nullptr);
    EXPECT_EQ(*a.where_set("read only"), (SourceLocation{kConf, 1}));
    EXPECT_EQ(a.where_set("comment"), nullptr);
}

// Verifies [global] re-entry: later modules see the new defaults; earlier modules keep
// their non-string values but pick up strings they never set (upstream's NULL fallback,
// checked against rsync 3.5.0).
TEST(ConfigLoad, GlobalReentry)
{
    auto r = load_text("[a]\n"
                       "path = /srv/a\n"
                       "hosts deny = 10.0.0.1\n"
                       "[global]\n"
                       "comment = late\n"
                       "hosts deny = *\n"
                       "read only = no\n"
                       "[b]\n"
                       "path = /srv/b\n");
    ASSERT_TRUE(r.config);
    EXPECT_THAT(r.problems, IsEmpty());
    const auto& a = module(r, "a");
    const auto& b = module(r, "b");
    EXPECT_TRUE(a.read_only);
    EXPECT_FALSE(b.read_only);
    EXPECT_EQ(a.comment, "late");
    ASSERT_NE(a.where_set("comment"), nullptr);
    EXPECT_EQ(a.where_set("comment")->line, 5);
    EXPECT_EQ(a.hosts_deny, "10.0.0.1");
    EXPECT_EQ(b.comment, "late");
    EXPECT_EQ(b.hosts_deny, "*");
    EXPECT_FALSE(r.config->defaults().read_only);
}

// Verifies that an explicitly empty string in a module does not fall back.
TEST(ConfigLoad, ExplicitEmptyStringDoesNotFallBack)
{
    auto r = load_text("[a]\npath = /a\ncomment =\n[global]\ncomment = late\n");
    ASSERT_TRUE(r.config);
    EXPECT_EQ(module(r, "a").comment, "");
}

// Verifies that a repeated header (compared like parameter names) reopens the module,
// which keeps its first spelling and position.
TEST(ConfigLoad, ReopenedModule)
{
    auto r = load_text("[Foo]\npath = /foo\ncomment = first\n[b]\npath = /b\n[f OO]\ncomment = "
                       "second\n");
    ASSERT_TRUE(r.config);
    EXPECT_THAT(r.problems, IsEmpty());
    ASSERT_EQ(r.config->modules().size(), 2u);
    EXPECT_EQ(r.config->modules()[0].name, "Foo");
    EXPECT_EQ(r.config->modules()[0].comment, "second");
    EXPECT_EQ(r.config->modules()[0].path, "/foo");
}

// Verifies that module lookup is exact and case-sensitive.
TEST(ConfigLoad, FindModuleIsExact)
{
    auto r = load_text("[Foo]\npath = /foo\n[my  mod]\npath = /m\n");
    ASSERT_TRUE(r.config);
    EXPECT_NE(r.config->find_module("Foo"), nullptr);
    EXPECT_EQ(r.config->find_module("foo"), nullptr);
    EXPECT_NE(r.config->find_module("my mod"), nullptr);
    EXPECT_EQ(r.config->find_module("my  mod"), nullptr);
}

// Verifies that "[global]" in any case/spacing is the global section, not a module.
TEST(ConfigLoad, GlobalHeaderVariants)
{
    auto r = load_text(
        "[a]\npath = /a\n[ GLOBAL ]\ntimeout = 5\n[Glo bal]\nlist = no\n[b]\npath = /b\n");
    ASSERT_TRUE(r.config);
    ASSERT_EQ(r.config->modules().size(), 2u);
    EXPECT_EQ(module(r, "b").timeout, 5);
    EXPECT_FALSE(module(r, "b").list);
    EXPECT_TRUE(module(r, "a").list);
}

// Verifies that a "name" parameter renames its module (upstream's lp_name()).
TEST(ConfigLoad, NameParameterRenames)
{
    auto r = load_text("[a]\npath = /a\nname = b\n[b]\ncomment = via new name\n");
    ASSERT_TRUE(r.config);
    EXPECT_THAT(r.problems, IsEmpty());
    ASSERT_EQ(r.config->modules().size(), 1u);
    EXPECT_EQ(r.config->find_module("a"), nullptr);
    EXPECT_EQ(module(r, "b").comment, "via new name");
    auto bad = load_text("[a]\npath = /a\nname = x/y\n");
    EXPECT_THAT(messages(bad), ElementsAre(HasSubstr(":3: \"name\" must be")));
}

// Verifies that an unknown parameter is an error with file and line, and loading goes on.
TEST(ConfigLoad, UnknownParameter)
{
    auto r = load_text("[a]\npath = /a\nmax conections = 3\nlist = no\n");
    ASSERT_TRUE(r.config);
    EXPECT_THAT(messages(r),
                ElementsAre("/etc/rsyncd.conf:3: unknown parameter \"max conections\""));
    EXPECT_FALSE(module(r, "a").list);
}

// Verifies that names are matched case- and space-insensitively, and aliases work.
TEST(ConfigLoad, NameSpellings)
{
    auto r = load_text("MaxConnections = 7\nbind address = 127.0.0.1\nrsync port = 99\n"
                       "PIDFILE = /p\n");
    ASSERT_TRUE(r.config);
    EXPECT_THAT(r.problems, IsEmpty());
    EXPECT_EQ(r.config->defaults().max_connections, 7);
    EXPECT_EQ(r.config->globals().bind_address, "127.0.0.1");
    EXPECT_EQ(r.config->globals().rsync_port, 99);
    EXPECT_EQ(r.config->globals().pid_file, "/p");
    ASSERT_NE(r.config->globals().where_set("address"), nullptr);
    ASSERT_NE(r.config->globals().where_set("port"), nullptr);
}

// Verifies that a global parameter inside a module is an error and is ignored.
TEST(ConfigLoad, GlobalParameterInModule)
{
    auto r = load_text("[a]\npath = /a\nport = 99\n");
    ASSERT_TRUE(r.config);
    EXPECT_THAT(
        messages(r),
        ElementsAre(HasSubstr(":3: global parameter \"port\" is not allowed in a module section")));
    EXPECT_EQ(r.config->globals().rsync_port, 0);
}

// Verifies that bad values are errors that leave the previous value in place.
TEST(ConfigLoad, BadValues)
{
    auto r = load_text("read only = no\n[a]\npath = /a\nread only = maybe\ntimeout = 10s\n"
                       "syslog facility = local9\nuse chroot = unset\n");
    ASSERT_TRUE(r.config);
    EXPECT_THAT(
        messages(r),
        ElementsAre(HasSubstr(":4: \"read only\" expects a boolean (yes/no), got \"maybe\""),
                    HasSubstr(":5: \"timeout\" expects an integer, got \"10s\""),
                    HasSubstr(":6: \"syslog facility\" expects a facility name")));
    EXPECT_FALSE(module(r, "a").read_only);
    EXPECT_EQ(module(r, "a").timeout, 0);
    EXPECT_EQ(module(r, "a").use_chroot, Bool3::Unset);
}

// Verifies that non-string values expand %VAR% from the environment at load time while
// strings are stored raw.
TEST(ConfigLoad, VarExpansionByType)
{
    LoadOptions opts;
    opts.environment = {{"TMO", "30"}, {"RO", "no"}, {"HOME", "/root"}};
    auto r = load_text("[a]\npath = /home/%HOME%/%RSYNC_USER_NAME%\ntimeout = %TMO%\n"
                       "read only = %RO%\nmax connections = %UNSET%\n",
                       opts);
    ASSERT_TRUE(r.config);
    EXPECT_EQ(module(r, "a").path, "/home/%HOME%/%RSYNC_USER_NAME%");
    EXPECT_EQ(module(r, "a").timeout, 30);
    EXPECT_FALSE(module(r, "a").read_only);
    EXPECT_THAT(messages(r), ElementsAre(HasSubstr(
                                 ":5: \"max connections\" expects an integer, got \"%UNSET%\"")));
}

// Verifies fatal syntax: a '/' in a module name, an empty name, an unknown directive.
TEST(ConfigLoad, FatalSyntax)
{
    auto r = load_text("[a/b]\npath = /x\n");
    EXPECT_FALSE(r.config);
    EXPECT_THAT(messages(r), ElementsAre(HasSubstr(":1: invalid module name \"a/b\"")));

    r = load_text("[a]\n= x\n");
    EXPECT_FALSE(r.config);
    EXPECT_THAT(messages(r), ElementsAre(HasSubstr(":2: missing parameter name")));

    r = load_text("&frobnicate /x\n");
    EXPECT_FALSE(r.config);
    EXPECT_THAT(messages(r), ElementsAre(HasSubstr(":1: unknown directive \"&frobnicate\"")));
}

// Verifies that a missing config file is fatal.
TEST(ConfigLoad, MissingConfigFile)
{
    auto r = load(Files().error(kConf, EACCES));
    EXPECT_FALSE(r.config);
    EXPECT_THAT(messages(r), ElementsAre("/etc/rsyncd.conf: unable to open config file "
                                         "\"/etc/rsyncd.conf\": Permission denied"));
    r = load(Files());
    EXPECT_FALSE(r.config);
    EXPECT_THAT(messages(r), ElementsAre(HasSubstr("No such file or directory")));
}

// Verifies that a problem in a non-fatal line does not stop later lines.
TEST(ConfigLoad, LineWithoutEqualsIsReported)
{
    auto r = load_text("[a]\npath = /a\nread only\nlist = no\n");
    ASSERT_TRUE(r.config);
    EXPECT_THAT(messages(r), ElementsAre(HasSubstr(":3: line has no '='")));
    EXPECT_FALSE(module(r, "a").list);
}

// Verifies &include of a file: it starts from the current defaults, its own defaults and
// globals do not leak out, its modules exist, and afterwards the parser is in the global
// context (upstream's "]pop").
TEST(ConfigLoad, IncludeFile)
{
    Files f;
    f.file(kConf, "read only = no\n"
                  "[a]\n"
                  "path = /a\n"
                  "&include /etc/inc.conf\n"
                  "timeout = 9\n"
                  "[c]\n"
                  "path = /c\n");
    f.file("/etc/inc.conf", "motd file = /etc/inner-motd\n"
                            "list = no\n"
                            "[b]\n"
                            "path = /b\n");
    auto r = load(f);
    ASSERT_TRUE(r.config);
    EXPECT_THAT(r.problems, IsEmpty());
    ASSERT_EQ(r.config->modules().size(), 3u);
    const auto& b = module(r, "b");
    EXPECT_FALSE(b.read_only);
    EXPECT_FALSE(b.list);
    EXPECT_EQ(b.defined_at, (SourceLocation{"/etc/inc.conf", 3}));
    const auto& c = module(r, "c");
    EXPECT_TRUE(c.list);
    EXPECT_EQ(c.timeout, 9);
    EXPECT_EQ(module(r, "a").timeout, 0);
    EXPECT_EQ(r.config->globals().motd_file, "");
}

// Verifies &merge of a file: textual insertion, so defaults leak and the section context
// carries on both ways.
TEST(ConfigLoad, MergeFile)
{
    Files f;
    f.file(kConf, "[a]\n"
                  "path = /a\n"
                  "&merge /etc/m.inc\n"
                  "comment = after merge\n");
    f.file("/etc/m.inc", "list = no\n"
                         "[global]\n"
                         "motd file = /etc/motd\n"
                         "[b]\n"
                         "path = /b\n");
    auto r = load(f);
    ASSERT_TRUE(r.config);
    EXPECT_THAT(r.problems, IsEmpty());
    EXPECT_FALSE(module(r, "a").list);
    EXPECT_EQ(r.config->globals().motd_file, "/etc/motd");
    EXPECT_EQ(module(r, "b").comment, "after merge");
    EXPECT_EQ(module(r, "a").comment, "");
}

// Verifies &include of a directory: its *.conf files in byte order, each starting from
// the defaults at the directive; other names are ignored.
TEST(ConfigLoad, IncludeDirectory)
{
    Files f;
    f.file(kConf, "list = no\n&include /etc/rsyncd.d\n[last]\npath = /l\n");
    f.dir("/etc/rsyncd.d", {"b.conf", "a.conf", "c.inc", "README", "B.conf"});
    f.file("/etc/rsyncd.d/a.conf", "timeout = 1\n[ma]\npath = /a\n");
    f.file("/etc/rsyncd.d/b.conf", "[mb]\npath = /b\n");
    f.file("/etc/rsyncd.d/B.conf", "[Z]\npath = /B\n");
    f.file("/etc/rsyncd.d/c.inc", "[bad]\npath = /bad\n");
    auto r = load(f);
    ASSERT_TRUE(r.config);
    EXPECT_THAT(r.problems, IsEmpty());
    std::vector<std::string> names;
    for (const auto& m : r.config->modules())
        names.push_back(m.name);
    EXPECT_THAT(names, ElementsAre("Z", "ma", "mb", "last"));
    EXPECT_EQ(module(r, "ma").timeout, 1);
    EXPECT_EQ(module(r, "mb").timeout, 0);
    EXPECT_FALSE(module(r, "mb").list);
    EXPECT_EQ(module(r, "last").timeout, 0);
}

// Verifies &merge of a directory: its *.inc files in order, effects carried on.
TEST(ConfigLoad, MergeDirectory)
{
    Files f;
    f.file(kConf, "&merge /etc/d/\n[m]\npath = /m\n");
    f.dir("/etc/d/", {"2.inc", "1.inc", "x.conf"});
    f.file("/etc/d/1.inc", "timeout = 1\nlist = no\n");
    f.file("/etc/d/2.inc", "timeout = 2\n");
    f.file("/etc/d/x.conf", "max connections = 5\n");
    auto r = load(f);
    ASSERT_TRUE(r.config);
    EXPECT_THAT(r.problems, IsEmpty());
    EXPECT_EQ(module(r, "m").timeout, 2);
    EXPECT_FALSE(module(r, "m").list);
    EXPECT_EQ(module(r, "m").max_connections, 0);
}

// Verifies that an empty include directory changes nothing, not even the section context.
TEST(ConfigLoad, EmptyIncludeDirectory)
{
    Files f;
    f.file(kConf, "[m]\npath = /m\n&include /etc/empty\ncomment = still m\n");
    f.dir("/etc/empty", {"notes.txt"});
    auto r = load(f);
    ASSERT_TRUE(r.config);
    EXPECT_EQ(module(r, "m").comment, "still m");
    EXPECT_EQ(r.config->defaults().comment, "");
}

// Verifies that a missing include is fatal at the directive's line.
TEST(ConfigLoad, MissingInclude)
{
    auto r = load_text("[a]\npath = /a\n&include /etc/none.conf\n");
    EXPECT_FALSE(r.config);
    EXPECT_THAT(messages(r), ElementsAre("/etc/rsyncd.conf:3: unable to open config file "
                                         "\"/etc/none.conf\": No such file or directory"));
}

// Verifies that self-inclusion stops at the nesting bound instead of recursing forever.
TEST(ConfigLoad, IncludeRecursionBounded)
{
    auto r = load_text("&include /etc/rsyncd.conf\n");
    EXPECT_FALSE(r.config);
    EXPECT_THAT(messages(r), ElementsAre(HasSubstr("nested too deeply")));
}

// Verifies that a directory whose files include the directory again stops at a bound
// (it would otherwise fan out exponentially).
TEST(ConfigLoad, IncludeFanOutBounded)
{
    Files f;
    f.file(kConf, "&merge /d\n");
    std::vector<std::string> names;
    for (int i = 0; i < 8; ++i) {
        std::string n = std::to_string(i) + ".inc";
        names.push_back(n);
        f.file("/d/" + n, "&merge /d\n");
    }
    f.dir("/d", names);
    auto r = load(f);
    EXPECT_FALSE(r.config);
    ASSERT_FALSE(r.problems.empty());
    EXPECT_THAT(format_problem(r.problems.back()),
                testing::AnyOf(HasSubstr("too many included"), HasSubstr("nested too deeply")));
}

// Verifies --dparam: applied at the end of the global section (overriding lines there),
// names compared without spaces, available to all modules.
TEST(ConfigLoad, Dparams)
{
    LoadOptions opts;
    opts.dparams = {{"pidfile", "/run/x.pid"}, {"readonly", "no"}, {"timeout", "  42"}};
    auto r = load_text("pid file = /run/file.pid\nread only = yes\n[a]\npath = /a\n"
                       "[global]\ntimeout = 7\n[b]\npath = /b\n",
                       opts);
    ASSERT_TRUE(r.config);
    EXPECT_THAT(r.problems, IsEmpty());
    EXPECT_EQ(r.config->globals().pid_file, "/run/x.pid");
    ASSERT_NE(r.config->globals().where_set("pid file"), nullptr);
    EXPECT_EQ(*r.config->globals().where_set("pid file"), (SourceLocation{"--dparam", 1}));
    EXPECT_FALSE(module(r, "a").read_only);
    EXPECT_EQ(module(r, "a").timeout, 42);
    // A later [global] section still applies, as upstream parses it after the dparams.
    EXPECT_EQ(module(r, "b").timeout, 7);
}

// Verifies --dparam without a config file, and with no module in the file.
TEST(ConfigLoad, DparamsWithoutModules)
{
    LoadOptions opts;
    opts.dparams = {{"motd file", "/etc/motd"}};
    auto r = load_text("motd file = /etc/other\n", opts);
    ASSERT_TRUE(r.config);
    EXPECT_EQ(r.config->globals().motd_file, "/etc/motd");

    LoadOptions none;
    none.config_path = std::nullopt;
    none.dparams = {{"port", "8873"}};
    BundleFileSource src(FileBundle{});
    auto r2 = load_config(none, src);
    ASSERT_TRUE(r2.config);
    EXPECT_EQ(r2.config->globals().rsync_port, 8873);
}

// Verifies that --dparam values survive when the first module is inside an &include.
TEST(ConfigLoad, DparamsWithFirstModuleInInclude)
{
    Files f;
    f.file(kConf, "&include /etc/a.conf\n[top]\npath = /t\n");
    f.file("/etc/a.conf", "[inner]\npath = /i\n");
    LoadOptions opts;
    opts.dparams = {{"timeout", "11"}, {"motd file", "/m"}};
    auto r = load(f, opts);
    ASSERT_TRUE(r.config);
    EXPECT_EQ(module(r, "inner").timeout, 11);
    EXPECT_EQ(module(r, "top").timeout, 11);
    EXPECT_EQ(r.config->globals().motd_file, "/m");
}

// Verifies that an unknown --dparam name is fatal and a bad value an error.
TEST(ConfigLoad, BadDparams)
{
    LoadOptions opts;
    opts.dparams = {{"timeout", "5"}, {"no such thing", "1"}};
    auto r = load_text("", opts);
    EXPECT_FALSE(r.config);
    EXPECT_THAT(messages(r), ElementsAre("--dparam:2: unknown parameter \"no such thing\""));

    opts.dparams = {{"timeout", "soon"}};
    r = load_text("", opts);
    ASSERT_TRUE(r.config);
    EXPECT_THAT(messages(r),
                ElementsAre("--dparam:1: \"timeout\" expects an integer, got \"soon\""));
}

// Verifies --module: appended after the file's modules with path and read only set and
// the rest from the final defaults.
TEST(ConfigLoad, CliModules)
{
    LoadOptions opts;
    opts.cli_modules = {{"pub", "/srv/pub/", false}, {"up", "/srv/up", true}};
    auto r = load_text("[a]\npath = /a\n[global]\ntimeout = 3\ncomment = c\n", opts);
    ASSERT_TRUE(r.config);
    EXPECT_THAT(r.problems, IsEmpty());
    ASSERT_EQ(r.config->modules().size(), 3u);
    EXPECT_EQ(r.config->modules()[1].name, "pub");
    EXPECT_EQ(module(r, "pub").path, "/srv/pub");
    EXPECT_TRUE(module(r, "pub").read_only);
    EXPECT_FALSE(module(r, "up").read_only);
    EXPECT_EQ(module(r, "up").timeout, 3);
    EXPECT_EQ(module(r, "up").comment, "c");
    EXPECT_EQ(module(r, "up").defined_at, (SourceLocation{"--module", 2}));
}

// Verifies --module name clashes and invalid names.
TEST(ConfigLoad, CliModuleProblems)
{
    LoadOptions opts;
    opts.cli_modules = {{"A", "/x", false},      {"a/b", "/x", false}, {"ok", "", false},
                        {"global", "/g", false}, {"n", "/n", false},   {"N", "/n2", false}};
    auto r = load_text("[a]\npath = /a\n", opts);
    ASSERT_TRUE(r.config);
    EXPECT_THAT(
        messages(r),
        ElementsAre(HasSubstr("--module:1: module \"A\" is already defined at "
                              "/etc/rsyncd.conf:1"),
                    HasSubstr("--module:2: invalid module name \"a/b\""),
                    HasSubstr("--module:3: module \"ok\" has an empty path"),
                    HasSubstr("--module:4: invalid module name \"global\""),
                    HasSubstr("--module:6: module \"N\" is already defined at --module:5")));
    EXPECT_EQ(r.config->modules().size(), 2u);
}

// Verifies that without a config file only --module modules exist.
TEST(ConfigLoad, OnlyCliModules)
{
    LoadOptions opts;
    opts.config_path = std::nullopt;
    opts.cli_modules = {{"m", "/srv/m", true}};
    BundleFileSource src(FileBundle{});
    auto r = load_config(opts, src);
    ASSERT_TRUE(r.config);
    ASSERT_EQ(r.config->modules().size(), 1u);
    EXPECT_FALSE(r.config->modules()[0].read_only);
    EXPECT_TRUE(r.config->bundle().reads().empty());
}

// Verifies that the motd and the secrets files of modules with "auth users" are read
// ahead and kept in the bundle, with their paths expanded as upstream would.
TEST(ConfigLoad, ReadsMotdAndSecretsAhead)
{
    Files f;
    f.file(kConf,
           "motd file = %ETC%/motd\n"
           "[a]\npath = /a\nauth users = u\nsecrets file = /etc/%RSYNC_MODULE_NAME%.secrets\n"
           "[b]\npath = /b\nauth users = u\nsecrets file = /etc/s-%RSYNC_HOST_ADDR%\n"
           "[c]\npath = /c\nauth users = u\nsecrets file = /etc/missing\n"
           "[d]\npath = /d\nsecrets file = /etc/unused\n");
    f.file("/etc/motd", "Welcome\n");
    f.file("/etc/a.secrets", "u:pw\n", 0100600, 0);
    LoadOptions opts;
    opts.environment = {{"ETC", "/etc"}};
    auto r = load(f, opts);
    ASSERT_TRUE(r.config);
    const Config& c = *r.config;
    EXPECT_EQ(c.motd_path(), "/etc/motd");
    ASSERT_NE(c.file("/etc/motd"), nullptr);
    EXPECT_EQ(c.file("/etc/motd")->contents, "Welcome\n");
    EXPECT_EQ(c.secrets_path(module(r, "a")), "/etc/a.secrets");
    ASSERT_NE(c.file("/etc/a.secrets"), nullptr);
    EXPECT_EQ(c.file("/etc/a.secrets")->mode, 0100600u);
    EXPECT_EQ(c.secrets_path(module(r, "b")), std::nullopt);
    EXPECT_EQ(c.file_error("/etc/missing"), (FileError{ENOENT}));
    EXPECT_EQ(c.file("/etc/missing"), nullptr);
    EXPECT_EQ(c.file("/etc/unrelated"), nullptr);
    EXPECT_EQ(c.file_error("/etc/unrelated"), std::nullopt);
    // Without "auth users" the secrets file is not read at all.
    EXPECT_EQ(c.bundle().find_read("/etc/unused"), nullptr);
}

// Verifies that a continuation at the end of the file is reported with the parameter's
// line and the value still applied.
TEST(ConfigLoad, ContinuationAtEof)
{
    auto r = load_text("[a]\npath = /a\ncomment = x\\\n");
    ASSERT_TRUE(r.config);
    EXPECT_THAT(messages(r), ElementsAre(HasSubstr(":3: line continuation")));
    EXPECT_EQ(module(r, "a").comment, "x");
}

// Verifies problem formatting.
TEST(ConfigLoad, FormatProblem)
{
    EXPECT_EQ(format_problem(Problem{{"/etc/r.conf", 12}, "bad", Severity::Error}),
              "/etc/r.conf:12: bad");
    EXPECT_EQ(format_problem(Problem{{"/etc/r.conf", 0}, "gone", Severity::Error}),
              "/etc/r.conf: gone");
    EXPECT_EQ(format_problem(Problem{{"x", 1}, "meh", Severity::Warning}), "x:1: warning: meh");
}

class TempTree {
public:
    TempTree()
    {
        std::string tmpl = (std::filesystem::temp_directory_path() / "ocr-cfg-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr)
            throw std::runtime_error("mkdtemp");
        root_ = tmpl;
    }
    ~TempTree()
    {
        std::error_code ec;
        std::filesystem::remove_all(root_, ec);
    }
    TempTree(const TempTree&) = delete;
    TempTree& operator=(const TempTree&) = delete;
    std::string write(const std::string& rel, const std::string& text) const
    {
        auto p = root_ / rel;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p) << text;
        return p.string();
    }
    [[nodiscard]] std::string path(const std::string& rel) const { return (root_ / rel).string(); }

private:
    std::filesystem::path root_;
};

// Verifies the bundle round trip: a load from disk, its bundle serialized, deserialized
// and replayed with the same options gives an equal Config (including the bundle).
TEST(ConfigLoad, BundleReplayGivesSameConfig)
{
    TempTree t;
    std::string conf = t.write("rsyncd.conf", "motd file = " + t.path("motd")
                                                  + "\n"
                                                    "&merge "
                                                  + t.path("d")
                                                  + "\n"
                                                    "&include "
                                                  + t.path("d")
                                                  + "\n"
                                                    "[top]\npath = /srv/top\nauth users = a\n"
                                                    "secrets file = "
                                                  + t.path("secrets") + "\n");
    t.write("motd", "hello\n");
    t.write("secrets", "a:b\n");
    t.write("d/one.conf", "[one]\npath = /srv/one\n");
    t.write("d/two.conf",
            "[two]\npath = /srv/two\nauth users = b\nsecrets file = " + t.path("nosecrets") + "\n");
    t.write("d/g.inc", "timeout = 5\n");

    LoadOptions opts;
    opts.config_path = conf;
    opts.dparams = {{"listen backlog", "50"}};
    opts.cli_modules = {{"cli", "/srv/cli", true}};
    DiskFileSource disk;
    auto first = load_config(opts, disk);
    ASSERT_TRUE(first.config);
    EXPECT_THAT(first.problems, IsEmpty());
    ASSERT_EQ(first.config->modules().size(), 4u);
    EXPECT_EQ(module(first, "one").timeout, 5);
    EXPECT_NE(first.config->file(t.path("motd")), nullptr);
    EXPECT_NE(first.config->file(t.path("secrets")), nullptr);
    EXPECT_TRUE(first.config->file_error(t.path("nosecrets")));

    auto decoded = FileBundle::deserialize(first.config->bundle().serialize());
    ASSERT_TRUE(decoded);
    BundleFileSource replay(*decoded);
    auto second = load_config(opts, replay);
    ASSERT_TRUE(second.config);
    EXPECT_EQ(*second.config, *first.config);
    EXPECT_EQ(second.problems, first.problems);
}

// Verifies that the Config's bundle holds only what this load read, even when the
// caller's source had answered other questions before.
TEST(ConfigLoad, BundleHoldsOnlyThisLoad)
{
    Files f;
    f.file(kConf, "[a]\npath = /a\n");
    f.file("/other", "x");
    BundleFileSource src(f.bundle());
    (void)src.read("/other");
    LoadOptions opts;
    opts.config_path = kConf;
    auto r = load_config(opts, src);
    ASSERT_TRUE(r.config);
    EXPECT_EQ(r.config->bundle().find_read("/other"), nullptr);
    EXPECT_NE(r.config->bundle().find_read(kConf), nullptr);
}

} // namespace
} // namespace ocr::daemon
