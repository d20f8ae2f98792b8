// SPDX-License-Identifier: MIT
// check_module_filter_files: which operator filter files are tried before "@RSYNCD: OK",
// upstream's log lines for one that cannot be opened, and the cases left to the worker.
#include "daemon/module_filter_files.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace ocr::daemon {
namespace {

// A probe that knows a few paths and records which ones were tried.
struct FakeFiles {
    std::map<std::string, int> errors; // path -> errno; absent paths open fine
    std::vector<std::string> tried;
    FileOpenProbe probe()
    {
        return [this](const std::string& p) {
            tried.push_back(p);
            auto it = errors.find(p);
            return it == errors.end() ? 0 : it->second;
        };
    }
};

const std::string kExcludeError = "rsync error: error in file IO (code 11) at exclude.c(1719) [Receiver=3.5.0]";

// Verifies upstream's two log lines for a missing "exclude from" file.
TEST(ModuleFilterFiles, MissingExcludeFromFails)
{
    ModuleSettings m;
    m.exclude_from = "/etc/rsync/missing";
    FakeFiles files;
    files.errors["/etc/rsync/missing"] = ENOENT;
    const auto lines = check_module_filter_files(m, files.probe());
    ASSERT_TRUE(lines);
    EXPECT_EQ(*lines, (std::vector<std::string>{
                          "rsync: [Receiver] failed to open exclude file /etc/rsync/missing: No such file or directory (2)",
                          kExcludeError}));
}

// Verifies that "include from" says "include file" and is checked before "exclude from".
TEST(ModuleFilterFiles, IncludeFromSaysInclude)
{
    ModuleSettings m;
    m.include_from = "/a/inc";
    m.exclude_from = "/a/exc";
    FakeFiles files;
    files.errors["/a/inc"] = ENOTDIR;
    files.errors["/a/exc"] = ENOENT;
    const auto lines = check_module_filter_files(m, files.probe());
    ASSERT_TRUE(lines);
    EXPECT_EQ((*lines)[0], "rsync: [Receiver] failed to open include file /a/inc: Not a directory (20)");
    EXPECT_EQ(files.tried, std::vector<std::string>{"/a/inc"});
}

// Verifies a leading merge rule of "filter", with the '+' modifier naming an include file.
TEST(ModuleFilterFiles, FilterMergeRule)
{
    for (const std::string& rule : {std::string("merge /m/f"), std::string(". /m/f"), std::string("merge,- /m/f"),
                                    std::string("  .-   /m/f  - *.tmp")}) {
        ModuleSettings m;
        m.filter = rule;
        FakeFiles files;
        files.errors["/m/f"] = ENOENT;
        const auto lines = check_module_filter_files(m, files.probe());
        ASSERT_TRUE(lines) << rule;
        EXPECT_EQ((*lines)[0], "rsync: [Receiver] failed to open exclude file /m/f: No such file or directory (2)")
            << rule;
    }
    ModuleSettings m;
    m.filter = "merge,+ /m/f";
    FakeFiles files;
    files.errors["/m/f"] = ENOENT;
    const auto lines = check_module_filter_files(m, files.probe());
    ASSERT_TRUE(lines);
    EXPECT_EQ((*lines)[0], "rsync: [Receiver] failed to open include file /m/f: No such file or directory (2)");
}

// Verifies that a failure the front-end may not share with the worker passes.
TEST(ModuleFilterFiles, PermissionErrorsPass)
{
    for (int err : {EACCES, EPERM}) {
        ModuleSettings m;
        m.exclude_from = "/root/excl";
        FakeFiles files;
        files.errors["/root/excl"] = err;
        EXPECT_FALSE(check_module_filter_files(m, files.probe()));
        EXPECT_EQ(files.tried.size(), 1u);
    }
}

// Verifies that files behind earlier rules, relative or unclean names and filter rules
// other than a leading merge are left to the worker (never tried here).
TEST(ModuleFilterFiles, UncertainCasesAreNotTried)
{
    FakeFiles files;
    files.errors["/x"] = ENOENT;
    auto untried = [&files](const ModuleSettings& m) {
        files.tried.clear();
        EXPECT_FALSE(check_module_filter_files(m, files.probe()));
        EXPECT_TRUE(files.tried.empty());
    };
    ModuleSettings m;
    m.filter = "- *.tmp";
    m.exclude_from = "/x";
    untried(m);
    m = {};
    m.filter = "merge,e /x";
    untried(m);
    m = {};
    m.filter = "dir-merge /x";
    untried(m);
    m = {};
    m.include = "*.c";
    m.exclude_from = "/x";
    untried(m);
    for (const char* name : {"x", "rel/x", "/a//x", "/a/./x", "/a/../x", "/a/", "/"}) {
        m = {};
        m.exclude_from = name;
        untried(m);
    }
    // After a merge file (which may have added rules) nothing more is tried.
    m = {};
    m.filter = "merge /ok";
    m.exclude_from = "/x";
    files.tried.clear();
    EXPECT_FALSE(check_module_filter_files(m, files.probe()));
    EXPECT_EQ(files.tried, std::vector<std::string>{"/ok"});
}

// Verifies that the real probe opens an existing file and reports ENOENT for a missing one.
TEST(ModuleFilterFiles, RealProbe)
{
    char tmpl[] = "/tmp/ocr_filter_probe_XXXXXX";
    const int fd = ::mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    ::close(fd);
    EXPECT_EQ(probe_open_for_reading(tmpl), 0);
    ::unlink(tmpl);
    EXPECT_EQ(probe_open_for_reading(tmpl), ENOENT);
    ModuleSettings m;
    m.exclude_from = tmpl;
    EXPECT_TRUE(check_module_filter_files(m, probe_open_for_reading));
}

} // namespace
} // namespace ocr::daemon
