// SPDX-License-Identifier: MIT
// Tests over tests/data/config/{good,broken}/*.conf and the sample conf/ocrsyncd.conf.
#include "daemon/config.hpp"
#include "daemon/config_validate.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace ocr::daemon {
namespace {

namespace fs = std::filesystem;

const fs::path kDataDir = fs::path(OCR_TEST_DATA_DIR) / "config";

std::vector<fs::path> conf_files(const fs::path& dir)
{
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".conf")
            out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

// load_config() plus validate_config() against the real system, as --check-config does.
std::vector<Problem> check_config(const std::string& path)
{
    LoadOptions opts;
    opts.config_path = path;
    DiskFileSource files;
    LoadResult r = load_config(opts, files);
    std::vector<Problem> problems = r.problems;
    if (r.config) {
        auto more = validate_config(*r.config, SystemValidationEnvironment{});
        problems.insert(problems.end(), more.begin(), more.end());
    }
    return problems;
}

struct Expectation {
    int line = 0;
    std::string substring;
};

// "# expect: LINE: substring" on the first line.
std::optional<Expectation> read_expectation(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::string first;
    std::getline(in, first);
    const std::string prefix = "# expect: ";
    if (first.rfind(prefix, 0) != 0)
        return std::nullopt;
    std::string rest = first.substr(prefix.size());
    auto colon = rest.find(": ");
    if (colon == std::string::npos)
        return std::nullopt;
    Expectation e;
    e.line = std::stoi(rest.substr(0, colon));
    e.substring = rest.substr(colon + 2);
    return e;
}

// Verifies that every good config loads and validates without a single problem.
TEST(ConfigFiles, GoodConfigsHaveNoProblems)
{
    auto files = conf_files(kDataDir / "good");
    ASSERT_GE(files.size(), 3u);
    for (const auto& f : files) {
        auto problems = check_config(f.string());
        for (const auto& p : problems)
            ADD_FAILURE() << f.filename() << ": " << format_problem(p);
    }
}

// Verifies that every broken config yields exactly the one problem its header names,
// at the named line of that file.
TEST(ConfigFiles, BrokenConfigsHaveTheirProblem)
{
    auto files = conf_files(kDataDir / "broken");
    ASSERT_GE(files.size(), 30u);
    for (const auto& f : files) {
        SCOPED_TRACE(f.filename().string());
        auto expect = read_expectation(f);
        ASSERT_TRUE(expect) << "no \"# expect: LINE: text\" header";
        auto problems = check_config(f.string());
        ASSERT_EQ(problems.size(), 1u) << [&] {
            std::string all;
            for (const auto& p : problems)
                all += "\n  " + format_problem(p);
            return all;
        }();
        const Problem& p = problems.front();
        EXPECT_EQ(p.where.file, f.string());
        EXPECT_EQ(p.where.line, expect->line);
        EXPECT_NE(p.message.find(expect->substring), std::string::npos)
            << "message: " << p.message << "\nexpected: " << expect->substring;
    }
}

// A system where the sample's paths, users and groups exist.
class SampleSystem final : public ValidationEnvironment {
public:
    bool is_dir(const std::string& path) const override
    {
        return path.rfind("/srv/rsync/", 0) == 0;
    }
    bool user_exists(const std::string& name) const override { return name == "nobody"; }
    bool group_exists(const std::string& name) const override
    {
        return name == "nogroup" || name == "backup";
    }
    bool running_as_root() const override { return true; }
};

// Verifies that the annotated sample config parses cleanly and, on a system that has its
// directories and a root-owned secrets file, validates cleanly.
TEST(ConfigFiles, SampleConfigIsClean)
{
    const std::string sample =
        (fs::path(OCR_TEST_DATA_DIR) / ".." / ".." / "conf" / "ocrsyncd.conf")
            .lexically_normal()
            .string();
    DiskFileSource disk;
    ReadResult read = disk.read(sample);
    ASSERT_TRUE(std::holds_alternative<FileData>(read)) << sample;
    const std::string text = std::get<FileData>(read).contents;

    FileBundle b;
    b.record_read(sample, FileData{text, 0100644, 0, false});
    b.record_read("/etc/ocrsyncd/backup.secrets", FileData{"@backup:pw\n", 0100600, 0, false});
    BundleFileSource src(b);
    LoadOptions opts;
    opts.config_path = sample;
    LoadResult r = load_config(opts, src);
    ASSERT_TRUE(r.config);
    for (const auto& p : r.problems)
        ADD_FAILURE() << format_problem(p);
    for (const auto& p : validate_config(*r.config, SampleSystem{}))
        ADD_FAILURE() << format_problem(p);
    EXPECT_EQ(r.config->modules().size(), 3u);
    const ModuleSettings* backup = r.config->find_module("backup");
    ASSERT_NE(backup, nullptr);
    EXPECT_FALSE(backup->read_only);
    EXPECT_TRUE(backup->tls_only);
}

} // namespace
} // namespace ocr::daemon
