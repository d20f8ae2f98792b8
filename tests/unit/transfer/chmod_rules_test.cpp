// SPDX-License-Identifier: MIT
// Tests of the --chmod / "incoming chmod" / "outgoing chmod" parser and mode tweaking.
#include "transfer/chmod_rules.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace ocr::transfer {
namespace {

constexpr std::uint32_t kUmask = 022;

std::uint32_t tweak(std::string_view spec, std::uint32_t mode, std::uint32_t umask = kUmask)
{
    auto rules = ChmodRules::parse(spec, umask);
    if (!rules)
        throw std::invalid_argument("spec did not parse: " + std::string(spec));
    return rules->tweak_mode(mode);
}

std::string data_path(const char* name)
{
    return std::string(OCR_TEST_DATA_DIR) + "/transfer/" + name;
}

// Verifies that parse() accepts and refuses exactly the specs that rsync 3.5.0's --chmod
// accepts and refuses (tests/data/transfer/chmod_syntax.txt, made by make_chmod_syntax.py).
TEST(ChmodRulesTest, SyntaxMatchesUpstream)
{
    std::ifstream in(data_path("chmod_syntax.txt"));
    ASSERT_TRUE(in) << "missing chmod_syntax.txt";
    std::string line;
    int checked = 0;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#')
            continue;
        const auto tab = line.find('\t');
        ASSERT_NE(tab, std::string::npos) << line;
        const std::string verdict = line.substr(0, tab);
        std::string spec = line.substr(tab + 1);
        for (std::size_t p; (p = spec.find("\\t")) != std::string::npos;)
            spec.replace(p, 2, "\t");
        EXPECT_EQ(ChmodRules::parse(spec, kUmask).has_value(), verdict == "ok") << "spec [" << spec << "]";
        ++checked;
    }
    EXPECT_GT(checked, 500);
}

// Verifies that tweak_mode() gives the modes rsync 3.5.0 set for every spec, umask,
// file type and source mode in tests/data/transfer/chmod_vectors.txt.
TEST(ChmodRulesTest, ModesMatchUpstream)
{
    std::ifstream in(data_path("chmod_vectors.txt"));
    ASSERT_TRUE(in) << "missing chmod_vectors.txt";
    std::string line;
    int checked = 0;
    int errors = 0;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#')
            continue;
        std::istringstream fields(line);
        std::string umask_text, spec, kind, src_text, want_text;
        fields >> umask_text >> spec;
        // "=" and "+" alone are specs too; an empty spec cannot appear (rsync refuses it).
        const auto umask = static_cast<std::uint32_t>(std::stoul(umask_text, nullptr, 8));
        if (!(fields >> kind)) {
            ADD_FAILURE() << "short line: " << line;
            continue;
        }
        if (kind == "ERROR") {
            EXPECT_FALSE(ChmodRules::parse(spec, umask).has_value()) << spec;
            ++errors;
            continue;
        }
        fields >> src_text >> want_text;
        const auto src = static_cast<std::uint32_t>(std::stoul(src_text, nullptr, 8));
        const auto want = static_cast<std::uint32_t>(std::stoul(want_text, nullptr, 8));
        const std::uint32_t type = kind == "dir" ? S_IFDIR : S_IFREG;
        auto rules = ChmodRules::parse(spec, umask);
        ASSERT_TRUE(rules.has_value()) << spec;
        EXPECT_EQ(rules->apply_to_entry(type | src), type | want)
            << "umask " << umask_text << " spec " << spec << " " << kind << " " << src_text;
        ++checked;
    }
    EXPECT_GT(checked, 8000);
    EXPECT_GT(errors, 0);
}

// Verifies that "+ts" keeps only setuid: upstream's "s" without u/g overwrites an earlier "t".
TEST(ChmodRulesTest, SWithoutWhoOverwritesSticky)
{
    EXPECT_EQ(tweak("+ts", S_IFREG | 0644), S_IFREG | 04644u);
    EXPECT_EQ(tweak("+st", S_IFREG | 0644), S_IFREG | 05644u);
    EXPECT_EQ(tweak("a+s", S_IFREG | 0644), S_IFREG | 06644u);
    EXPECT_EQ(tweak("o+s", S_IFREG | 0644), S_IFREG | 04644u);
}

// Verifies that "X" adds execute only to directories and files that were executable before
// the first rule, even when an earlier rule in the same list made them executable.
TEST(ChmodRulesTest, CapitalXLooksAtOriginalMode)
{
    EXPECT_EQ(tweak("a+X", S_IFREG | 0644), S_IFREG | 0644u);
    EXPECT_EQ(tweak("a+X", S_IFREG | 0744), S_IFREG | 0755u);
    EXPECT_EQ(tweak("a+X", S_IFDIR | 0644), S_IFDIR | 0755u);
    EXPECT_EQ(tweak("u+x,a+X", S_IFREG | 0644), S_IFREG | 0744u);
}

// Verifies that D- and F-prefixed items apply only to directories or only to the rest.
TEST(ChmodRulesTest, DirAndFilePrefixes)
{
    EXPECT_EQ(tweak("D755,F644", S_IFDIR | 0700), S_IFDIR | 0755u);
    EXPECT_EQ(tweak("D755,F644", S_IFREG | 0700), S_IFREG | 0644u);
    EXPECT_EQ(tweak("D755,F644", S_IFIFO | 0700), S_IFIFO | 0644u);
    EXPECT_FALSE(ChmodRules::parse("DF+x", kUmask).has_value());
    EXPECT_FALSE(ChmodRules::parse("FD+x", kUmask).has_value());
}

// Verifies that copies from u, g or o work for +, - and =, and that "=u" also clears the
// special bits of the targets.
TEST(ChmodRulesTest, CopyBits)
{
    EXPECT_EQ(tweak("g=u", S_IFREG | 0704), S_IFREG | 0774u);
    EXPECT_EQ(tweak("o+g", S_IFREG | 0750), S_IFREG | 0755u);
    EXPECT_EQ(tweak("go-u", S_IFREG | 0577), S_IFREG | 0522u);
    EXPECT_EQ(tweak("g=u", S_IFREG | 02704), S_IFREG | 0774u);
    EXPECT_FALSE(ChmodRules::parse("g=ur", kUmask).has_value());
    EXPECT_FALSE(ChmodRules::parse("g=ru", kUmask).has_value());
}

// Verifies that without u/g/o/a the umask limits what is added or removed, as chmod(1) does.
TEST(ChmodRulesTest, UmaskLimitsUnqualifiedChanges)
{
    EXPECT_EQ(tweak("+w", S_IFREG | 0444, 022), S_IFREG | 0644u);
    EXPECT_EQ(tweak("a+w", S_IFREG | 0444, 022), S_IFREG | 0666u);
    EXPECT_EQ(tweak("-w", S_IFREG | 0666, 022), S_IFREG | 0466u);
    EXPECT_EQ(tweak("=rw", S_IFREG | 0777, 027), S_IFREG | 0640u);
}

// Verifies that a number replaces all twelve permission bits and that numbers above 07777
// or with a u/g/o/a prefix are refused.
TEST(ChmodRulesTest, OctalNumbers)
{
    EXPECT_EQ(tweak("644", S_IFREG | 07777), S_IFREG | 0644u);
    EXPECT_EQ(tweak("D1777", S_IFDIR | 0700), S_IFDIR | 01777u);
    EXPECT_FALSE(ChmodRules::parse("010000", kUmask).has_value());
    EXPECT_FALSE(ChmodRules::parse("u644", kUmask).has_value());
    EXPECT_FALSE(ChmodRules::parse("8", kUmask).has_value());
    EXPECT_TRUE(ChmodRules::parse("D7", kUmask).has_value());
}

// Verifies that apply_to_entry() leaves symlinks and zero modes alone, as the file list does.
TEST(ChmodRulesTest, FileListSkipsSymlinksAndZeroModes)
{
    const auto rules = ChmodRules::parse("a=", kUmask);
    ASSERT_TRUE(rules.has_value());
    EXPECT_EQ(rules->apply_to_entry(S_IFLNK | 0777), S_IFLNK | 0777u);
    EXPECT_EQ(rules->apply_to_entry(0), 0u);
    EXPECT_EQ(rules->apply_to_entry(S_IFREG | 0644), S_IFREG | 0u);
}

// Verifies that append() is all-or-nothing.
TEST(ChmodRulesTest, AppendIsAtomic)
{
    auto rules = ChmodRules::parse("u+x", kUmask);
    ASSERT_TRUE(rules.has_value());
    EXPECT_FALSE(rules->append("g+w,bogus", kUmask));
    EXPECT_EQ(rules->rules().size(), 1u);
    EXPECT_TRUE(rules->append("g+w,o-r", kUmask));
    EXPECT_EQ(rules->rules().size(), 3u);
    EXPECT_EQ(rules->tweak_mode(S_IFREG | 0644), S_IFREG | 0760u);
}

// Verifies that the module's rules run after the client's (and so win) and are also kept
// apart for the receiver's second application.
TEST(ChmodRulesTest, SessionAppendsModuleRulesAfterClient)
{
    const SessionChmod s = combine_session_chmod({"o+w", "g+w"}, "o-w,F600", false, kUmask);
    EXPECT_TRUE(s.log_line.empty());
    EXPECT_EQ(s.all.rules().size(), 4u);
    EXPECT_EQ(s.module_only.rules().size(), 2u);
    EXPECT_EQ(s.all.tweak_mode(S_IFDIR | 0755), S_IFDIR | 0775u);
    EXPECT_EQ(s.all.tweak_mode(S_IFREG | 0755), S_IFREG | 0600u);
    EXPECT_EQ(s.module_only.tweak_mode(S_IFDIR | 0777), S_IFDIR | 0775u);
}

// Verifies the double application rsync 3.5.0 showed for "incoming chmod = F+X,Fu+x": a
// pushed 0644 file ends up 0755 (file list, then again when attributes are set), while a
// pull through "outgoing chmod" with the same rules gives 0744.
TEST(ChmodRulesTest, ReceivingDaemonAppliesModuleRulesTwice)
{
    const SessionChmod push = combine_session_chmod({}, "F+X,Fu+x", false, kUmask);
    const std::uint32_t listed = push.all.apply_to_entry(S_IFREG | 0644);
    EXPECT_EQ(listed, S_IFREG | 0744u);
    EXPECT_EQ(push.module_only.tweak_mode(listed), S_IFREG | 0755u);
    const SessionChmod pull = combine_session_chmod({}, "F+X,Fu+x", true, kUmask);
    EXPECT_EQ(pull.all.apply_to_entry(S_IFREG | 0644), S_IFREG | 0744u);
}

// Verifies that a bad module directive is reported with upstream's wording and ignored.
TEST(ChmodRulesTest, SessionReportsBadModuleDirective)
{
    const SessionChmod in = combine_session_chmod({"u+x"}, "u+q", false, kUmask);
    EXPECT_EQ(in.log_line, "Invalid \"incoming chmod\" directive: u+q");
    EXPECT_EQ(in.all.rules().size(), 1u);
    EXPECT_TRUE(in.module_only.empty());
    const SessionChmod out = combine_session_chmod({}, "8", true, kUmask);
    EXPECT_EQ(out.log_line, "Invalid \"outgoing chmod\" directive: 8");
    EXPECT_TRUE(out.all.empty());
    EXPECT_THROW((void)combine_session_chmod({"bad"}, "", true, kUmask), std::invalid_argument);
}

} // namespace
} // namespace ocr::transfer
