// SPDX-License-Identifier: MIT
#include "common/strings.hpp"

#include <gtest/gtest.h>

namespace ocr {
namespace {

// Verifies that trim removes every kind of ASCII white space at both ends only.
TEST(Strings, TrimBothEnds)
{
    EXPECT_EQ(trim("  a b \t\r\n"), "a b");
    EXPECT_EQ(trim(""), "");
    EXPECT_EQ(trim(" \t "), "");
}

// Verifies that split_ws drops empty fields and split keeps them.
TEST(Strings, SplitVariants)
{
    EXPECT_EQ(split_ws("  a  b\tc "), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(split("a,,b", ','), (std::vector<std::string>{"a", "", "b"}));
}

// Verifies that parse_int accepts whole numbers only while atoi_like mimics C atoi.
TEST(Strings, IntegerParsing)
{
    EXPECT_EQ(parse_int("42"), 42);
    EXPECT_EQ(parse_int("-7"), -7);
    EXPECT_EQ(parse_int("+7"), 7);
    EXPECT_FALSE(parse_int("4x"));
    EXPECT_FALSE(parse_int(""));
    EXPECT_FALSE(parse_int("99999999999999999999"));
    EXPECT_EQ(atoi_like("  12abc"), 12);
    EXPECT_EQ(atoi_like("abc"), 0);
    EXPECT_EQ(atoi_like("-3"), -3);
}

// Verifies that control bytes are escaped for log lines the way upstream shows them.
TEST(Strings, PrintableEscapesControlBytes)
{
    EXPECT_EQ(printable("a\nb"), "a\\#012b");
    EXPECT_TRUE(iequals("ReadOnly", "readonly"));
    EXPECT_EQ(to_lower("AbC"), "abc");
}

} // namespace
} // namespace ocr
