// SPDX-License-Identifier: MIT
// Tests of the module's daemon filter list built from rsyncd.conf parameters.
#include "transfer/filter_daemon.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace ocr::transfer {
namespace {

class MapFiles final : public FilterFileSource {
public:
    std::map<std::string, std::string, std::less<>> operator_files;
    std::vector<std::string> operator_reads;
    std::vector<std::string> module_reads;

    FilterFileRead read_module_file(std::string_view path, std::size_t) override
    {
        module_reads.emplace_back(path);
        return {std::nullopt, ENOENT};
    }
    FilterFileRead read_operator_file(std::string_view path, std::size_t) override
    {
        operator_reads.emplace_back(path);
        const auto it = operator_files.find(path);
        if (it == operator_files.end())
            return {std::nullopt, ENOENT};
        return {it->second, 0};
    }
};

FilterOptions role(FilterSide side)
{
    FilterOptions o;
    o.role = side;
    return o;
}

// Verifies upstream's order (filter, include from, include, exclude from, exclude) and
// rewriting: '/' anchors at the module root, "dir/" excludes become "dir/***".
TEST(FilterDaemon, OrderAndRewriting)
{
    MapFiles files;
    files.operator_files["/etc/inc"] = "inc1\n- inc2\n";
    files.operator_files["/etc/exc"] = "# comment\nex/\n+ exin\n";
    FilterSet set(role(FilterSide::Sender), files);
    ModuleFilterConfig cfg;
    cfg.filter = "- /a/ + b  - c/d";
    cfg.include_from = "/etc/inc";
    cfg.include = "x/";
    cfg.exclude_from = "/etc/exc";
    cfg.exclude = "y/ - z +w";
    load_module_filters(set, cfg);
    EXPECT_EQ(set.daemon_list().describe(),
              (std::vector<std::string>{"-/ /a/***", "+ b", "-/ c/d", "+ inc1", "- inc2", "+ x/",
                                        "- ex/***", "+ exin", "- y/***", "- z", "- +w"}));
    EXPECT_EQ(files.operator_reads, (std::vector<std::string>{"/etc/inc", "/etc/exc"}));
    EXPECT_TRUE(set.client_list().empty());
}

// Verifies that daemon rules anchor at the module root wherever the transfer starts, and
// that "dir/" hides the directory's whole subtree.
TEST(FilterDaemon, AnchoredAtModuleRoot)
{
    MapFiles files;
    FilterSet set(role(FilterSide::Sender), files);
    ModuleFilterConfig cfg;
    cfg.filter = "- /sub/x - /secret/ - a/b";
    load_module_filters(set, cfg);
    set.set_transfer_root("sub");
    EXPECT_EQ(set.excluded("x", false), Exclusion::Daemon);
    EXPECT_EQ(set.excluded("sub/x", false), Exclusion::None);
    set.set_transfer_root("");
    EXPECT_EQ(set.excluded("secret", true), Exclusion::Daemon);
    EXPECT_EQ(set.excluded("secret/deep/file", false), Exclusion::Daemon);
    EXPECT_EQ(set.excluded("secret", false), Exclusion::None);
    // A rule with an inner '/' matches from the module root's path, floating.
    set.set_transfer_root("q");
    EXPECT_EQ(set.excluded("a/b", false), Exclusion::Daemon);
    EXPECT_EQ(set.excluded("z/a/b", false), Exclusion::Daemon);
}

// Verifies upstream's side handling of the module list: hide/show rules are dropped and
// protect/risk rules act as plain rules on pulls and pushes alike.
TEST(FilterDaemon, SidesAsUpstream)
{
    for (const FilterSide side : {FilterSide::Sender, FilterSide::Receiver}) {
        MapFiles files;
        FilterSet set(role(side), files);
        ModuleFilterConfig cfg;
        cfg.filter = "H hidden P prot -s sonly -r ronly R risky - risky";
        load_module_filters(set, cfg);
        EXPECT_EQ(set.excluded("hidden", false), Exclusion::None);
        EXPECT_EQ(set.excluded("sonly", false), Exclusion::None);
        EXPECT_EQ(set.excluded("prot", false), Exclusion::Daemon);
        EXPECT_EQ(set.excluded("ronly", false), Exclusion::Daemon);
        EXPECT_EQ(set.excluded("risky", false), Exclusion::None);
        EXPECT_TRUE(set.daemon_excluded("prot", false));
    }
}

// Verifies that the client can neither see nor re-include what the module excludes.
TEST(FilterDaemon, ClientCannotOverride)
{
    MapFiles files;
    FilterSet set(role(FilterSide::Sender), files);
    ModuleFilterConfig cfg;
    cfg.exclude = "*.key";
    load_module_filters(set, cfg);
    set.add_client_rules("+ *", 0, 0);
    set.add_client_rules("!", 0, 0);
    set.add_client_rules("+ a.key", 0, 0);
    EXPECT_EQ(set.excluded("a.key", false), Exclusion::Daemon);
    // A daemon include does not override the client's own excludes either.
    FilterSet other(role(FilterSide::Sender), files);
    ModuleFilterConfig inc;
    inc.include = "x";
    load_module_filters(other, inc);
    other.add_client_rules("- x", 0, 0);
    EXPECT_EQ(other.excluded("x", false), Exclusion::Client);
}

// Verifies upstream's exact failures: a missing *_from file (exit 11) and a bad rule
// (exit 1), worded as upstream's module setup ("[Receiver]").
TEST(FilterDaemon, Failures)
{
    MapFiles files;
    FilterSet set(role(FilterSide::Sender), files);
    ModuleFilterConfig cfg;
    cfg.exclude_from = "/etc/missing";
    try {
        load_module_filters(set, cfg);
        FAIL() << "no error";
    } catch (const FilterError& e) {
        EXPECT_EQ(protocol::to_int(e.code()), 11);
        EXPECT_STREQ(e.what(), "rsync: [Receiver] failed to open exclude file /etc/missing: "
                               "No such file or directory (2)");
    }
    FilterSet bad(role(FilterSide::Sender), files);
    ModuleFilterConfig cfg2;
    cfg2.filter = "- ok bogus";
    try {
        load_module_filters(bad, cfg2);
        FAIL() << "no error";
    } catch (const FilterError& e) {
        EXPECT_EQ(protocol::to_int(e.code()), 1);
        EXPECT_STREQ(e.what(), "Unknown filter rule: bogus");
    }
}

// Verifies the file-free check the front-end makes before "@RSYNCD: OK": it finds a bad
// rule the parameters spell out, in upstream's order, and gives no verdict once a rule
// needs a file (whatever follows is read by the worker).
TEST(FilterDaemon, ConfigErrorWithoutFiles)
{
    ModuleFilterConfig bad;
    bad.exclude = "*.o";
    bad.filter = "+ a ! c";
    const auto err = module_filter_config_error(bad);
    ASSERT_TRUE(err.has_value());
    EXPECT_EQ(protocol::to_int(err->code()), 1);
    EXPECT_STREQ(err->what(), "Unknown filter rule: c");

    ModuleFilterConfig good;
    good.filter = "- *.tmp + keep/ -! x";
    good.include = "a/ b";
    good.exclude = "*";
    EXPECT_FALSE(module_filter_config_error(good).has_value());

    ModuleFilterConfig after_file;
    after_file.exclude_from = "/etc/ocr-rules"; // read before "exclude" in upstream's order
    after_file.exclude = "x";
    after_file.filter = "- ok";
    EXPECT_FALSE(module_filter_config_error(after_file).has_value());
    after_file.filter = "bogus";
    EXPECT_TRUE(module_filter_config_error(after_file).has_value()); // "filter" comes first

    ModuleFilterConfig merge_first;
    merge_first.filter = "merge /etc/ocr-rules x y";
    EXPECT_FALSE(module_filter_config_error(merge_first).has_value());
}

// Verifies merge rules of the "filter" parameter: operator files, relative names with a
// '/' taken from the module path, and (as upstream) their rules parsed without the daemon
// modes, so "/x" there anchors at the transfer root.
TEST(FilterDaemon, MergeRulesReadOperatorFiles)
{
    MapFiles files;
    files.operator_files["/srv/mod/conf/rules"] = "- /x\n- a/b\n";
    files.operator_files["plain"] = "- p\n";
    FilterSet set(role(FilterSide::Sender), files);
    ModuleFilterConfig cfg;
    cfg.filter = "merge conf/rules . plain";
    cfg.module_path = "/srv/mod";
    load_module_filters(set, cfg);
    EXPECT_EQ(files.operator_reads, (std::vector<std::string>{"/srv/mod/conf/rules", "plain"}));
    EXPECT_TRUE(files.module_reads.empty());
    set.set_transfer_root("sub");
    EXPECT_EQ(set.excluded("x", false), Exclusion::Daemon);
    EXPECT_EQ(set.excluded("q/a/b", false), Exclusion::Daemon);
    EXPECT_EQ(set.excluded("p", false), Exclusion::Daemon);
}

// Verifies that the client's --delete-excluded and --from0 do not change the module's list,
// which upstream builds before it reads the client's options.
TEST(FilterDaemon, ClientOptionsDoNotApply)
{
    MapFiles files;
    files.operator_files["/etc/ex"] = "a\nb\n";
    FilterOptions opt = role(FilterSide::Sender);
    opt.delete_excluded = true;
    opt.eol_nulls = true;
    FilterSet set(opt, files);
    ModuleFilterConfig cfg;
    cfg.filter = "- /secret/";
    cfg.exclude_from = "/etc/ex";
    load_module_filters(set, cfg);
    EXPECT_EQ(set.daemon_list().describe(),
              (std::vector<std::string>{"-/ /secret/***", "- a", "- b"}));
    set.add_client_rules("- c", 0, 0);
    EXPECT_EQ(set.client_list().describe(), std::vector<std::string>{"-s c"});
}

// Verifies that the empty configuration gives an empty list and reads nothing.
TEST(FilterDaemon, EmptyConfig)
{
    MapFiles files;
    FilterSet set(role(FilterSide::Receiver), files);
    load_module_filters(set, ModuleFilterConfig{});
    EXPECT_TRUE(set.daemon_list().empty());
    EXPECT_TRUE(files.operator_reads.empty());
    EXPECT_FALSE(set.daemon_excludes_path("a/b/c", true));
}

// Verifies path_is_daemon_excluded(): any hidden leading directory hides the path.
TEST(FilterDaemon, PathCheck)
{
    MapFiles files;
    FilterSet set(role(FilterSide::Sender), files);
    ModuleFilterConfig cfg;
    cfg.exclude = "/priv";
    load_module_filters(set, cfg);
    EXPECT_TRUE(set.daemon_excludes_path("priv/a/b", false));
    EXPECT_FALSE(set.daemon_excludes_path("priv", false));
    EXPECT_TRUE(set.daemon_excludes_path("priv", true));
    EXPECT_FALSE(set.daemon_excludes_path("pub/priv", true));
}

} // namespace
} // namespace ocr::transfer
