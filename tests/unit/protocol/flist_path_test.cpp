// SPDX-License-Identifier: MIT
#include "protocol/flist_path.hpp"

#include <gtest/gtest.h>

namespace ocr::protocol {
namespace {

std::string cleaned(std::string_view s)
{
    const CleanedName c = clean_received_name(s);
    return c.ok ? c.text : "REFUSED:" + c.text;
}

// Verifies upstream's clean_fname with CFN_REFUSE_DOT_DOT_DIRS: repeated slashes collapse,
// "." components and trailing slashes go, a leading slash stays, an empty result is ".".
TEST(FlistPath, CleanReceivedName)
{
    EXPECT_EQ(cleaned("a/b"), "a/b");
    EXPECT_EQ(cleaned("a//b/"), "a/b");
    EXPECT_EQ(cleaned("./a/./b"), "a/b");
    EXPECT_EQ(cleaned("."), ".");
    EXPECT_EQ(cleaned("./"), ".");
    EXPECT_EQ(cleaned("/"), "/");
    EXPECT_EQ(cleaned("//x"), "/x");
    EXPECT_EQ(cleaned("a/."), "a/.");
    EXPECT_EQ(cleaned("..a/b..c"), "..a/b..c");
}

// Verifies that any ".." component is refused, and that the text kept for the error message
// is upstream's half-cleaned buffer.
TEST(FlistPath, RefusesDotDot)
{
    EXPECT_EQ(cleaned(".."), "REFUSED:..");
    EXPECT_EQ(cleaned("../x"), "REFUSED:../x");
    EXPECT_EQ(cleaned("a/../b"), "REFUSED:a/../b");
    EXPECT_EQ(cleaned("a/.."), "REFUSED:a/..");
    EXPECT_EQ(cleaned("/.."), "REFUSED:/..");
    EXPECT_EQ(cleaned("./a/../b"), "REFUSED:a/a/../b"); // "a/" already moved over "./"
}

// Verifies upstream's sanitize_path with an empty root: leading slashes and "." go, ".."
// climbs only inside the path unless depth allows leading ones, trailing slash stays.
TEST(FlistPath, Sanitize)
{
    EXPECT_EQ(sanitize_path("/etc/passwd", 0), "etc/passwd");
    EXPECT_EQ(sanitize_path("../../x", 0), "x");
    EXPECT_EQ(sanitize_path("../../x", 1), "../x");
    EXPECT_EQ(sanitize_path("a/../../b", 0), "b");
    EXPECT_EQ(sanitize_path("a/b/../c", 0), "a/c");
    EXPECT_EQ(sanitize_path("./a/./b/", 0), "a/b/");
    EXPECT_EQ(sanitize_path("..", 0), ".");
    EXPECT_EQ(sanitize_path("", 0), ".");
}

// Verifies component counting, which skips "." components after a slash.
TEST(FlistPath, CountDirElements)
{
    EXPECT_EQ(count_dir_elements(""), 0);
    EXPECT_EQ(count_dir_elements("a"), 1);
    EXPECT_EQ(count_dir_elements("a/b/c"), 3);
    EXPECT_EQ(count_dir_elements("a/./b"), 2);
    EXPECT_EQ(count_dir_elements("/a//b/"), 2);
}

} // namespace
} // namespace ocr::protocol
