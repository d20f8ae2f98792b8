// SPDX-License-Identifier: MIT
#include "protocol/id_list.hpp"

#include "protocol/memory_stream.hpp"
#include "protocol/protocol_error.hpp"
#include "protocol/wire.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace ocr::protocol {
namespace {

std::string hex(const std::string& s)
{
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        if (!out.empty())
            out += ' ';
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

IdNameLookup table(std::map<std::uint32_t, std::string> names, int* calls = nullptr)
{
    return [names, calls](std::uint32_t id) -> std::optional<std::string> {
        if (calls)
            ++*calls;
        const auto it = names.find(id);
        return it == names.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
}

// Verifies that add() reports a name only the first time an id is seen, looks each id up
// once, and reports nothing for ids without a name.
TEST(IdRegistry, AddReturnsNameOnFirstSighting)
{
    int calls = 0;
    IdRegistry reg(table({{1000, "alice"}, {0, "root"}}, &calls));
    EXPECT_EQ(reg.add(1000), std::optional<std::string>("alice"));
    EXPECT_EQ(reg.add(1000), std::nullopt);
    EXPECT_EQ(reg.add(4242), std::nullopt);
    EXPECT_EQ(reg.add(0), std::optional<std::string>("root"));
    EXPECT_EQ(calls, 3);
    EXPECT_EQ(reg.size(), 3u);
}

// Verifies upstream's list layout: newest id first, id 0 and unnamed ids left out, varint ids
// from protocol 30, then the terminator, or with CF_ID0_NAMES the name of id 0 (empty when
// it has none).
TEST(IdRegistry, EncodesNewestFirstWithTerminator)
{
    IdRegistry reg(table({{1000, "alice"}, {1, "daemon"}, {0, "root"}}));
    reg.add(1000);
    reg.add(0);
    reg.add(4242);
    reg.add(1);
    std::string plain;
    reg.encode(plain, 30, false);
    EXPECT_EQ(hex(plain), hex(std::string("\x01\x06"
                                          "daemon"
                                          "\x83\xe8\x05"
                                          "alice"
                                          "\x00",
                                          17)));
    std::string id0;
    reg.encode(id0, 32, true);
    EXPECT_EQ(hex(id0), hex(std::string("\x01\x06"
                                        "daemon"
                                        "\x83\xe8\x05"
                                        "alice"
                                        "\x00\x04"
                                        "root",
                                        22)));
    IdRegistry nameless(table({}));
    std::string empty_root;
    nameless.encode(empty_root, 32, true);
    EXPECT_EQ(hex(empty_root), "00 00");
}

// Verifies that below protocol 30 ids are int32s and names longer than 255 bytes are cut.
TEST(IdRegistry, OldProtocolAndLongNames)
{
    IdRegistry reg(table({{7, std::string(300, 'x')}}));
    reg.add(7);
    std::string out;
    reg.encode(out, 29, false);
    ASSERT_EQ(out.size(), 4u + 1 + 255 + 4);
    EXPECT_EQ(hex(out.substr(0, 5)), "07 00 00 00 ff");
    EXPECT_EQ(hex(out.substr(260)), "00 00 00 00");
}

// Verifies that read_id_list reads what encode wrote, including the id-0 name, at both
// integer widths.
TEST(IdList, ReadsWhatWasWritten)
{
    for (const int protocol : {29, 32}) {
        IdRegistry reg(table({{1000, "alice"}, {5, "e"}, {0, "root"}}));
        reg.add(5);
        reg.add(1000);
        std::string out;
        reg.encode(out, protocol, protocol >= 30);
        MemorySource in(out);
        const std::vector<IdName> got = read_id_list(in, protocol, protocol >= 30);
        std::vector<IdName> want = {{1000, "alice"}, {5, "e"}};
        if (protocol >= 30)
            want.push_back({0, "root"});
        EXPECT_EQ(got, want);
        EXPECT_EQ(in.remaining(), 0u);
    }
}

// Verifies when the lists travel (not with incremental recursion, not with --numeric-ids)
// and that read_id_lists reads the user list then the group list only for -o / -g.
TEST(IdList, ListsFollowOptions)
{
    FlistOptions o;
    o.protocol = 31;
    EXPECT_TRUE(id_lists_sent(o));
    o.numeric_ids = NumericIds::Local;
    EXPECT_TRUE(id_lists_sent(o));
    o.numeric_ids = NumericIds::Wire;
    EXPECT_FALSE(id_lists_sent(o));
    o.numeric_ids = NumericIds::Off;
    o.inc_recurse = true;
    EXPECT_FALSE(id_lists_sent(o));
    o.inc_recurse = false;
    o.preserve_gid = true;
    const std::string bytes("\x02\x03"
                            "bin"
                            "\x00",
                            6);
    MemorySource in(bytes);
    const IdLists lists = read_id_lists(in, o);
    EXPECT_TRUE(lists.users.empty());
    EXPECT_EQ(lists.groups, (std::vector<IdName>{{2, "bin"}}));
}

// Verifies that a list longer than kMaxIdListEntries is refused and a truncated one is an
// end-of-stream error.
TEST(IdList, BoundedAndTruncated)
{
    std::string many;
    for (std::size_t i = 0; i <= kMaxIdListEntries; ++i) {
        put_varint(many, static_cast<std::int32_t>(i + 1));
        put_byte(many, 0);
    }
    MemorySource in(many);
    try {
        (void)read_id_list(in, 30, false);
        FAIL();
    } catch (const ProtocolError& e) {
        EXPECT_EQ(e.code(), ExitCode::Protocol);
    }
    const std::string truncated("\x05\x04"
                                "ro",
                                4);
    MemorySource cut(truncated);
    EXPECT_THROW((void)read_id_list(cut, 30, false), ProtocolError);
}

} // namespace
} // namespace ocr::protocol
