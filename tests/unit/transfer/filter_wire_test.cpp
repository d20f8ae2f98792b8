// SPDX-License-Identifier: MIT
// Tests of receiving the client's filter list from the wire.
#include "transfer/filter_wire.hpp"

#include "protocol/memory_stream.hpp"
#include "protocol/wire.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ocr::transfer {
namespace {

std::string wire(const std::vector<std::string>& rules, bool terminate = true)
{
    std::string out;
    for (const std::string& r : rules) {
        protocol::put_i32(out, static_cast<std::int32_t>(r.size()));
        out += r;
    }
    if (terminate)
        protocol::put_i32(out, 0);
    return out;
}

FilterOptions opts(FilterSide side, int protocol = 32)
{
    FilterOptions o;
    o.role = side;
    o.protocol_version = protocol;
    return o;
}

/// Reads @p bytes with @p params and returns the client list, or throws.
std::vector<std::string> receive(const std::string& bytes, const FilterOptions& o,
                                 const WireFilterParams& params = {}, std::size_t* left = nullptr)
{
    NoFilterFiles files;
    FilterSet set(o, files);
    protocol::MemorySource in(bytes);
    recv_filter_list(in, set, params);
    if (left)
        *left = in.remaining();
    return set.client_list().describe();
}

// Verifies the framing: int32 length + text per rule, ended by a zero length.
TEST(FilterWire, ReadsRulesUntilZero)
{
    std::size_t left = 99;
    const std::string bytes = wire({"- *.o", "+ /keep/", "H x"}) + "trailing";
    EXPECT_EQ(receive(bytes, opts(FilterSide::Sender), {}, &left),
              (std::vector<std::string>{"- *.o", "+ /keep/", "-s x"}));
    EXPECT_EQ(left, 8u);
    EXPECT_TRUE(receive(wire({}), opts(FilterSide::Sender)).empty());
}

// Verifies that a receiving server reads the list only when a stock client sends one.
TEST(FilterWire, WhenTheClientSendsAList)
{
    const FilterOptions recv = opts(FilterSide::Receiver);
    EXPECT_TRUE(client_sends_filter_list(opts(FilterSide::Sender), {}));
    EXPECT_FALSE(client_sends_filter_list(recv, {}));
    EXPECT_TRUE(client_sends_filter_list(recv, {true, false, false}));
    EXPECT_TRUE(client_sends_filter_list(recv, {false, true, false}));
    FilterOptions de = recv;
    de.delete_excluded = true;
    EXPECT_TRUE(client_sends_filter_list(de, {false, true, false}));
    de.protocol_version = 28;
    EXPECT_FALSE(client_sends_filter_list(de, {false, true, false}));
    // Nothing is read when nothing is sent: the bytes stay for the file list.
    std::size_t left = 0;
    EXPECT_TRUE(receive(wire({"- x"}), recv, {}, &left).empty());
    EXPECT_EQ(left, 11u);
}

// Verifies that protocol < 29 rules only know "- ", "+ " and "!" (upstream XFLG_OLD_PREFIXES).
TEST(FilterWire, OldProtocolPrefixes)
{
    EXPECT_EQ(receive(wire({"- a", "+ b", ": c", "c*"}), opts(FilterSide::Sender, 28)),
              (std::vector<std::string>{"- a", "+ b", "- : c", "- c*"}));
    EXPECT_EQ(receive(wire({"- a", "!", "- b"}), opts(FilterSide::Sender, 28)),
              std::vector<std::string>{"- b"});
    EXPECT_EQ(receive(wire({"H x"}), opts(FilterSide::Sender, 29)),
              std::vector<std::string>{"-s x"});
}

// Verifies upstream's bound on one rule (BIGPATHBUFLEN) and that a negative length is the
// same overflow, both ending the session with exit 22.
TEST(FilterWire, RuleLengthBound)
{
    const std::string ok(kMaxWireRuleLen - 1 - 2, 'a');
    EXPECT_EQ(receive(wire({"- " + ok}), opts(FilterSide::Sender)).size(), 0u);
    for (const std::int32_t len : {static_cast<std::int32_t>(kMaxWireRuleLen), -1, INT32_MIN}) {
        std::string bytes;
        protocol::put_i32(bytes, len);
        try {
            (void)receive(bytes, opts(FilterSide::Sender));
            FAIL() << len;
        } catch (const FilterError& e) {
            EXPECT_EQ(protocol::to_int(e.code()), 22);
            EXPECT_STREQ(e.what(),
                         "[sender] buffer overflow: recv_rules (file=exclude.c, line=1982)");
        }
    }
}

// Verifies the bounds on the number of rules and on the total rule text.
TEST(FilterWire, ListBounds)
{
    FilterOptions o = opts(FilterSide::Sender);
    o.limits.max_wire_rules = 3;
    EXPECT_EQ(receive(wire({"- a", "- b", "- c"}), o).size(), 3u);
    EXPECT_THROW((void)receive(wire({"- a", "- b", "- c", "- d"}), o), FilterError);
    o.limits.max_wire_rules = 100;
    o.limits.max_wire_bytes = 8;
    EXPECT_EQ(receive(wire({"- a", "- b"}), o).size(), 2u);
    EXPECT_THROW((void)receive(wire({"- a", "- b", "- c"}), o), FilterError);
}

// Verifies that a truncated list is a stream error, and a rule's text ends at a NUL byte.
TEST(FilterWire, TruncationAndNul)
{
    std::string cut = wire({"- abc"}, false);
    cut.pop_back();
    EXPECT_THROW((void)receive(cut, opts(FilterSide::Sender)), protocol::ProtocolError);
    EXPECT_THROW((void)receive(wire({"- a"}, false), opts(FilterSide::Sender)),
                 protocol::ProtocolError);
    EXPECT_EQ(receive(wire({std::string("- a\0- b", 7)}), opts(FilterSide::Sender)),
              std::vector<std::string>{"- a"});
}

// Verifies that a bad rule from the client is fatal with upstream's text (exit 1).
TEST(FilterWire, BadRuleIsFatal)
{
    try {
        (void)receive(wire({"- ok", "bogus rule"}), opts(FilterSide::Sender));
        FAIL() << "no error";
    } catch (const FilterError& e) {
        EXPECT_EQ(protocol::to_int(e.code()), 1);
        EXPECT_STREQ(e.what(), "Unknown filter rule: bogus rule");
    }
}

// Verifies the -C rules the server adds after the client's, by role and protocol.
TEST(FilterWire, CvsExcludeRules)
{
    const WireFilterParams cvs{false, false, true};
    EXPECT_EQ(receive(wire({"- a"}), opts(FilterSide::Sender), cvs),
              (std::vector<std::string>{"- a", ":C .cvsignore", "-C "}));
    EXPECT_TRUE(receive("", opts(FilterSide::Receiver), cvs).empty());
    EXPECT_EQ(receive("", opts(FilterSide::Receiver, 28), cvs),
              std::vector<std::string>{":C .cvsignore"});
}

} // namespace
} // namespace ocr::transfer
