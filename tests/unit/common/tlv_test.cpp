// SPDX-License-Identifier: MIT
#include "common/tlv.hpp"

#include <gtest/gtest.h>

namespace ocr {
namespace {

// Verifies that fields, integers and lists survive a round trip in order.
TEST(Tlv, RoundTrip)
{
    TlvWriter w;
    w.add(1, "module").add_int(2, -42).add_list(3, {"a", "", "c"}).add_bool(4, true);
    auto r = TlvReader::parse(w.bytes());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->get(1), "module");
    EXPECT_EQ(r->get_int(2), -42);
    EXPECT_EQ(r->get_list(3), (std::vector<std::string>{"a", "", "c"}));
    EXPECT_EQ(r->get_int(4), 1);
    EXPECT_FALSE(r->get(9));
    EXPECT_FALSE(r->get_int(1)); // not 8 bytes
}

// Verifies that a length running past the end, a short header or too many fields is rejected.
TEST(Tlv, RejectsBadFraming)
{
    TlvWriter w;
    w.add(1, "hello");
    std::string bytes = w.bytes();
    EXPECT_FALSE(TlvReader::parse(bytes.substr(0, bytes.size() - 1)));
    EXPECT_FALSE(TlvReader::parse(bytes.substr(0, 3)));
    EXPECT_FALSE(TlvReader::parse(bytes + bytes, 1));
    EXPECT_TRUE(TlvReader::parse(""));
}

} // namespace
} // namespace ocr
