// SPDX-License-Identifier: MIT
#include "daemon/config_package.hpp"

#include <gtest/gtest.h>

namespace ocr::daemon {
namespace {

LoadResult load_text(const LoadOptions& options, const std::string& text)
{
    FileBundle bundle;
    bundle.record_read("/etc/test.conf", FileData{text, 0100644, 0, false});
    BundleFileSource source(bundle);
    return load_config(options, source);
}

// Verifies that a worker rebuilds the same configuration and session defaults the daemon
// loaded: load options, the files read at load time, and the command-line settings.
TEST(ConfigPackage, RoundTripKeepsConfigAndSessionDefaults)
{
    LoadOptions options;
    options.config_path = "/etc/test.conf";
    options.dparams = {{"timeout", "33"}};
    options.environment = {{"HOME", "/root"}};
    options.session.log_file_format = "%o %f %l";
    options.session.bwlimit_kib = 512;
    const LoadResult loaded = load_text(options, "[data]\n  path = /srv/data\n  comment = Data\n");
    ASSERT_TRUE(loaded.config);

    const auto package = decode_config_package(encode_config_package(options, *loaded.config));
    ASSERT_TRUE(package);
    EXPECT_EQ(package->options.session, options.session);
    EXPECT_EQ(package->options.dparams, options.dparams);
    const LoadResult again = load_config_package(*package);
    ASSERT_TRUE(again.config);
    const ModuleSettings* m = again.config->find_module("data");
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->path, "/srv/data");
    EXPECT_EQ(m->comment, "Data");
    EXPECT_EQ(m->timeout, 33);
}

// Verifies that an absent --log-file-format stays absent (it differs from an empty one).
TEST(ConfigPackage, AbsentLogFileFormatStaysAbsent)
{
    LoadOptions options;
    options.config_path = "/etc/test.conf";
    const LoadResult loaded = load_text(options, "[m]\n path = /tmp\n");
    ASSERT_TRUE(loaded.config);
    const auto package = decode_config_package(encode_config_package(options, *loaded.config));
    ASSERT_TRUE(package);
    EXPECT_FALSE(package->options.session.log_file_format);
    EXPECT_EQ(package->options.session.bwlimit_kib, 0);
}

// Verifies that truncated packages are refused rather than half-read.
TEST(ConfigPackage, TruncatedPackageIsRefused)
{
    LoadOptions options;
    options.config_path = "/etc/test.conf";
    const LoadResult loaded = load_text(options, "[m]\n path = /tmp\n");
    ASSERT_TRUE(loaded.config);
    const std::string bytes = encode_config_package(options, *loaded.config);
    for (std::size_t cut : {std::size_t{0}, std::size_t{3}, bytes.size() / 2, bytes.size() - 1})
        EXPECT_FALSE(decode_config_package(std::string_view(bytes).substr(0, cut))) << cut;
}

} // namespace
} // namespace ocr::daemon
