// SPDX-License-Identifier: MIT
// Tests of the filter set: list order, sides, clearing, CVS rules, merge files and limits.
#include "transfer/filter_set.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace ocr::transfer {
namespace {

/// Module files from a map; records every read.
class MapFiles final : public FilterFileSource {
public:
    std::map<std::string, std::string, std::less<>> module;
    std::map<std::string, std::string, std::less<>> operator_files;
    std::vector<std::string> module_reads;
    std::vector<std::string> operator_reads;

    FilterFileRead read_module_file(std::string_view path, std::size_t max) override
    {
        module_reads.emplace_back(path);
        const auto it = module.find(path);
        if (it == module.end())
            return {std::nullopt, ENOENT};
        if (it->second.size() > max)
            return {std::nullopt, EFBIG};
        return {it->second, 0};
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

Verdict client(const FilterSet& set, std::string_view name, bool is_dir = false)
{
    return set.client_list().check(name, is_dir, set.options().role);
}

FilterOptions sender()
{
    FilterOptions o;
    o.role = FilterSide::Sender;
    return o;
}

FilterOptions receiver()
{
    FilterOptions o;
    o.role = FilterSide::Receiver;
    return o;
}

// Verifies that the first matching rule decides and unmatched names are NoMatch.
TEST(FilterSet, FirstMatchWins)
{
    MapFiles files;
    FilterSet set(sender(), files);
    set.add_client_rules("+ keep.o", 0, 0);
    set.add_client_rules("- *.o", 0, 0);
    set.add_client_rules("+ *", 0, 0);
    EXPECT_EQ(client(set, "keep.o"), Verdict::Include);
    EXPECT_EQ(client(set, "x.o"), Verdict::Exclude);
    EXPECT_EQ(client(set, "x.c"), Verdict::Include);
    FilterSet empty(sender(), files);
    EXPECT_EQ(client(empty, "x"), Verdict::NoMatch);
    EXPECT_TRUE(empty.client_list().empty());
    EXPECT_EQ(empty.excluded("x", false), Exclusion::None);
}

// Verifies hide/show apply to the sender only and protect/risk to the receiver only.
TEST(FilterSet, SidesOfTheClientList)
{
    MapFiles files;
    for (const FilterOptions& opt : {sender(), receiver()}) {
        FilterSet set(opt, files);
        set.add_client_rules("H hidden", 0, 0);
        set.add_client_rules("P protected", 0, 0);
        set.add_client_rules("R risked", 0, 0);
        set.add_client_rules("- risked", 0, 0);
        set.add_client_rules("- both", 0, 0);
        const bool is_sender = opt.role == FilterSide::Sender;
        EXPECT_EQ(set.excluded("hidden", false) == Exclusion::Client, is_sender);
        EXPECT_EQ(set.excluded("protected", false) == Exclusion::Client, !is_sender);
        EXPECT_EQ(set.excluded("risked", false) == Exclusion::Client, is_sender);
        EXPECT_EQ(set.excluded("both", false), Exclusion::Client);
        // The explicit side argument of FilterList::check overrides the role.
        EXPECT_EQ(set.client_list().check("hidden", false, FilterSide::Sender),
                  Verdict::Exclude);
        EXPECT_EQ(set.client_list().check("hidden", false, FilterSide::Receiver),
                  Verdict::NoMatch);
    }
}

// Verifies that with --delete-excluded plain rules stop protecting on the receiver.
TEST(FilterSet, DeleteExcluded)
{
    MapFiles files;
    FilterOptions opt = receiver();
    opt.delete_excluded = true;
    FilterSet set(opt, files);
    set.add_client_rules("- plain", 0, 0);
    set.add_client_rules("P kept", 0, 0);
    EXPECT_EQ(set.excluded("plain", false), Exclusion::None);
    EXPECT_EQ(set.excluded("kept", false), Exclusion::Client);
}

// Verifies that "!" clears what came before, in the list it is parsed into.
TEST(FilterSet, ClearRule)
{
    MapFiles files;
    FilterSet set(sender(), files);
    set.add_client_rules("- foo", 0, 0);
    set.add_client_rules(": .rules", 0, 0);
    set.add_client_rules("!", 0, 0);
    set.add_client_rules("- bar", 0, 0);
    EXPECT_EQ(client(set, "foo"), Verdict::NoMatch);
    EXPECT_EQ(client(set, "bar"), Verdict::Exclude);
    EXPECT_EQ(set.client_list().describe(), std::vector<std::string>{"- bar"});
    // The dir-merge rule went with the clear: entering a directory reads nothing.
    set.push_dir(".");
    set.pop_dir();
    EXPECT_TRUE(files.module_reads.empty());
}

// Verifies that perishable rules are skipped when asked (directories being deleted).
TEST(FilterSet, Perishable)
{
    MapFiles files;
    FilterSet set(receiver(), files);
    set.add_client_rules("-p junk", 0, 0);
    EXPECT_EQ(set.excluded("junk", NameKind::File, false), Exclusion::Client);
    EXPECT_EQ(set.excluded("junk", NameKind::File, true), Exclusion::None);
}

// Verifies -C: the default list (perishable from protocol 30), $CVSIGNORE, the module's
// /.cvsignore in a chrooted module, and that it is loaded only once.
TEST(FilterSet, CvsExclude)
{
    MapFiles files;
    files.module[".cvsignore"] = "from-root-file\n";
    FilterOptions opt = sender();
    opt.cvsignore_env = "*.junk env-name";
    FilterSet set(opt, files);
    set.add_client_rules("-C", 0, 0);
    set.add_client_rules("-C", 0, 0);
    EXPECT_EQ(set.excluded("core", false), Exclusion::Client);
    EXPECT_EQ(set.excluded("a/b/x.o", false), Exclusion::Client);
    EXPECT_EQ(set.excluded(".git", true), Exclusion::Client);
    EXPECT_EQ(set.excluded(".git", false), Exclusion::None);
    EXPECT_EQ(set.excluded("x.junk", false), Exclusion::Client);
    EXPECT_EQ(set.excluded("env-name", false), Exclusion::Client);
    EXPECT_EQ(set.excluded("from-root-file", false), Exclusion::Client);
    EXPECT_EQ(files.module_reads, std::vector<std::string>{".cvsignore"});
    // Default entries are perishable, the others are not.
    EXPECT_EQ(set.excluded("core", NameKind::File, true), Exclusion::None);
    EXPECT_EQ(set.excluded("env-name", NameKind::File, true), Exclusion::Client);

    opt.protocol_version = 29;
    FilterSet old(opt, files);
    old.add_client_rules("-C", 0, 0);
    EXPECT_EQ(old.excluded("core", NameKind::File, true), Exclusion::Client);
}

// Verifies that without chroot -C reads $HOME/.cvsignore as an operator file.
TEST(FilterSet, CvsHomeFile)
{
    MapFiles files;
    files.operator_files["/home/daemon/.cvsignore"] = "home-name\n";
    FilterOptions opt = sender();
    opt.module_chroot = false;
    opt.home_dir = "/home/daemon";
    FilterSet set(opt, files);
    set.add_client_rules("+ core", 0, 0);
    set.add_client_rules("-C", 0, 0);
    EXPECT_EQ(set.excluded("home-name", false), Exclusion::Client);
    EXPECT_EQ(set.excluded("core", false), Exclusion::None);
    EXPECT_TRUE(files.module_reads.empty());
}

// Verifies that a merge rule reads a module file at once, module-relative and confined
// (".." never climbs above the module root), and honours its modifiers.
TEST(FilterSet, MergeFileIsReadConfined)
{
    MapFiles files;
    files.module["etc/rules"] = "- a\n# comment\n; comment\n\n+ b\n- *\n";
    files.module["list"] = "x\ny\n";
    FilterSet set(sender(), files);
    set.add_client_rules("merge /../../etc/rules", 0, 0);
    set.add_client_rules(".- list", 0, 0);
    EXPECT_EQ((std::vector<std::string>{"etc/rules", "list"}), files.module_reads);
    EXPECT_EQ(client(set, "a"), Verdict::Exclude);
    EXPECT_EQ(client(set, "b"), Verdict::Include);
    EXPECT_EQ(client(set, "# comment"), Verdict::Exclude);
    EXPECT_EQ(set.client_list().describe(),
              (std::vector<std::string>{"- a", "+ b", "- *", "- x", "- y"}));
}

// Verifies the 'e' modifier: the merge file's own name is excluded too.
TEST(FilterSet, MergeExcludeSelf)
{
    MapFiles files;
    files.module["d/r"] = "- z\n";
    FilterSet set(sender(), files);
    set.add_client_rules(".e d/r", 0, 0);
    EXPECT_EQ(client(set, "x/r"), Verdict::Exclude);
    EXPECT_EQ(client(set, "z"), Verdict::Exclude);
}

// Verifies that an unreadable merge file named by a rule ends the session with upstream's
// message, and that the name is withheld when it came from a file.
TEST(FilterSet, MissingMergeFile)
{
    MapFiles files;
    files.module["outer"] = "- ok\nmerge /nope\n";
    FilterOptions opt = sender();
    opt.who = "sender";
    FilterSet set(opt, files);
    try {
        set.add_client_rules("merge /missing", 0, 0);
        FAIL() << "no error";
    } catch (const FilterError& e) {
        EXPECT_EQ(protocol::to_int(e.code()), 11);
        EXPECT_STREQ(e.what(), "rsync: [sender] failed to open exclude file /missing: "
                               "No such file or directory (2)");
    }
    try {
        set.add_client_rules("+ /outer", rule_flag::Include, xflag::OldPrefixes);
        set.add_client_rules(". outer", 0, 0);
        FAIL() << "no error";
    } catch (const FilterError& e) {
        EXPECT_STREQ(e.what(), "failed to open exclude file <rule from outer line 2>");
    }
}

// Verifies that merge files nest at most 32 deep (a file that merges itself stops).
TEST(FilterSet, MergeDepthLimit)
{
    MapFiles files;
    files.module["self"] = "- x\nmerge /self\n";
    FilterSet set(sender(), files);
    try {
        set.add_client_rules("merge self", 0, 0);
        FAIL() << "no error";
    } catch (const FilterError& e) {
        EXPECT_EQ(protocol::to_int(e.code()), 11);
        // Each nested file was named by the one before: upstream's description nests too.
        std::string where = "self line 2";
        for (int i = 0; i < 31; ++i)
            where = "a file named at " + where;
        EXPECT_EQ(e.what(), "[sender] merge-file include depth limit (32) exceeded at <rule from "
                                + where + ">");
    }
    EXPECT_EQ(files.module_reads.size(), 32u);
}

// Verifies that a client merge file the module's filter hides is never read, also when
// it lies below a hidden directory (CVE-2026-53786), and that this is not an error.
TEST(FilterSet, DaemonHiddenMergeFileIsNotRead)
{
    MapFiles files;
    files.module["secret/rules"] = "- *\n";
    files.module["hid/inner/rules"] = "- *\n";
    FilterSet set(sender(), files);
    set.add_daemon_rules("- /secret/ - hid", rule_flag::WordSplit,
                         xflag::AbsIfSlash | xflag::Dir2Wild3, "");
    set.add_client_rules("merge /secret/rules", 0, 0);
    set.add_client_rules("merge secret/../secret/./rules", 0, 0);
    set.add_client_rules(". /hid/inner/rules", 0, 0);
    EXPECT_TRUE(files.module_reads.empty());
    EXPECT_EQ(set.excluded("public", false), Exclusion::None);
    EXPECT_TRUE(set.client_list().empty());
}

// Verifies the bound on live rules and on active per-directory merge files.
TEST(FilterSet, Limits)
{
    MapFiles files;
    FilterOptions opt = sender();
    opt.limits.max_rules = 3;
    opt.limits.max_dir_merges = 2;
    FilterSet set(opt, files);
    set.add_client_rules(": .a", 0, 0);
    set.add_client_rules(": .b", 0, 0);
    set.add_client_rules(": .c", 0, 0);
    EXPECT_EQ(set.client_list().describe(), (std::vector<std::string>{": .a", ": .b"}));
    const auto msgs = set.take_messages();
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0].text, "too many per-directory merge files; ignoring .c");
    set.add_client_rules("- x", 0, 0);
    EXPECT_THROW(set.add_client_rules("- y", 0, 0), FilterError);
}

// Verifies that a dir-merge rule naming an already active file is ignored.
TEST(FilterSet, DuplicateDirMergeIgnored)
{
    MapFiles files;
    FilterSet set(sender(), files);
    set.add_client_rules(": .rules", 0, 0);
    set.add_client_rules(":n /x/.rules", 0, 0);
    EXPECT_EQ(set.client_list().describe(), std::vector<std::string>{": .rules"});
    EXPECT_TRUE(set.saw_dir_merge());
}

// Verifies that an over-long pattern is dropped with upstream's message, not fatally.
TEST(FilterSet, OverLongPatternDiscarded)
{
    MapFiles files;
    FilterSet set(sender(), files);
    const std::string pat(kMaxPathLen, 'a');
    set.add_client_rules("- " + pat, 0, 0);
    EXPECT_TRUE(set.client_list().empty());
    const auto msgs = set.take_messages();
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0].text, "discarding over-long filter: " + pat);
    EXPECT_TRUE(set.take_messages().empty());
}

// Verifies merge-file line handling: CR, CRLF, over-long lines and NUL-separated files.
TEST(FilterSet, MergeFileLines)
{
    MapFiles files;
    files.module["crlf"] = "- a\r\n- b\r- c\r\n\r\n- d";
    files.module["long"] = "- " + std::string(6000, 'x') + "\n- short\n";
    files.module["nul"] = std::string("- p\n- q\0- r\0", 12);
    FilterSet set(sender(), files);
    set.add_client_rules(". crlf", 0, 0);
    set.add_client_rules(". long", 0, 0);
    EXPECT_EQ(set.client_list().describe(),
              (std::vector<std::string>{"- a", "- b", "- c", "- d", "- short"}));
    const auto msgs = set.take_messages();
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0].text, "discarding over-long filter: <rule from long line 1>");

    FilterOptions opt = sender();
    opt.eol_nulls = true;
    FilterSet nul(opt, files);
    nul.add_client_rules(". nul", 0, 0);
    EXPECT_EQ(nul.client_list().describe(), (std::vector<std::string>{"- p\n- q", "- r"}));
}

// Verifies that a side-specified merge file refuses side-specified rules inside it, and
// that the error shows where, not what.
TEST(FilterSet, SidedMergeFile)
{
    MapFiles files;
    files.module["s"] = "- ok\nH secret-content\n";
    FilterSet set(sender(), files);
    try {
        set.add_client_rules(".s s", 0, 0);
        FAIL() << "no error";
    } catch (const FilterError& e) {
        EXPECT_STREQ(e.what(), "specified-side merge file contains specified-side filter: "
                               "<rule from s line 2>");
    }
}

} // namespace
} // namespace ocr::transfer
