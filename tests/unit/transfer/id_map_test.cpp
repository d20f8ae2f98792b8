// SPDX-License-Identifier: MIT
// Tests of the --usermap/--groupmap parser, the receiver's id choice and how the push's
// file lists apply them (expected values checked against rsync 3.5.0's daemon).
#include "protocol/flist_encoder.hpp"
#include "protocol/memory_stream.hpp"
#include "protocol/protocol_error.hpp"
#include "transfer/id_map.hpp"
#include "transfer/receiver_flists.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <map>
#include <string>
#include <vector>

namespace ocr::transfer {
namespace {

// A fixed local database: the tests must not depend on the machine's users.
IdNameLookup fake_db()
{
    return [](const std::string& name) -> std::optional<std::uint32_t> {
        static const std::map<std::string, std::uint32_t> db{
            {"nobody", 65534}, {"daemon", 1}, {"backup", 34}, {"alice", 1001}, {"a:b", 77}};
        const auto it = db.find(name);
        if (it == db.end())
            return std::nullopt;
        return it->second;
    };
}

IdMap parse_ok(std::string_view spec, IdKind kind = IdKind::User)
{
    IdMapParse p = IdMap::parse(spec, kind, fake_db());
    EXPECT_FALSE(p.failure) << spec << ": " << (p.failure ? p.failure->message : "");
    EXPECT_TRUE(p.messages.empty()) << spec;
    return std::move(p.map);
}

IdMapFailure parse_fail(std::string_view spec, IdKind kind = IdKind::User)
{
    IdMapParse p = IdMap::parse(spec, kind, fake_db());
    EXPECT_TRUE(p.failure) << spec << " parsed";
    return p.failure.value_or(IdMapFailure{});
}

// Verifies that each kind of FROM is recognised and that the items keep their written
// order (upstream parses them backwards but links them so the first one wins).
TEST(IdMapParse, KindsAndOrder)
{
    const IdMap m = parse_ok("1000-5000:daemon,root:7,5:8,a*:9,*:backup");
    ASSERT_EQ(m.rules().size(), 5u);
    EXPECT_EQ(m.rules()[0].match, IdMapRule::Match::Range);
    EXPECT_EQ(m.rules()[0].lo, 1000u);
    EXPECT_EQ(m.rules()[0].hi, 5000u);
    EXPECT_EQ(m.rules()[0].to, 1u);
    EXPECT_EQ(m.rules()[1].match, IdMapRule::Match::Name);
    EXPECT_EQ(m.rules()[1].pattern, "root");
    EXPECT_EQ(m.rules()[1].to, 7u);
    EXPECT_EQ(m.rules()[2].match, IdMapRule::Match::Id);
    EXPECT_EQ(m.rules()[2].lo, 5u);
    EXPECT_EQ(m.rules()[3].match, IdMapRule::Match::Wildcard);
    EXPECT_EQ(m.rules()[4].match, IdMapRule::Match::Wildcard);
    EXPECT_EQ(m.rules()[4].to, 34u);
}

// Verifies that the first matching item decides, for ids, ranges, names and wildcards.
TEST(IdMapParse, FirstMatchWins)
{
    const IdMap m = parse_ok("1000-5000:1,root:7,alice:8,a*:9,*:34");
    EXPECT_EQ(m.find(1000, "alice"), 1u);     // the range comes first
    EXPECT_EQ(m.find(5000, ""), 1u);
    EXPECT_EQ(m.find(5001, "alice"), 8u);
    EXPECT_EQ(m.find(0, "root"), 7u);
    EXPECT_EQ(m.find(3, "anna"), 9u);
    EXPECT_EQ(m.find(3, "bob"), 34u);
    EXPECT_EQ(m.find(3, ""), 34u);            // "*" matches a sender without a name
    EXPECT_EQ(parse_ok("root:7").find(0, ""), std::nullopt);
}

// Verifies upstream's number forms: a zero upper bound is a single id, a reversed range
// matches nothing, TO may be a number with leading zeros.
TEST(IdMapParse, NumberForms)
{
    const IdMap single = parse_ok("5-0:007");
    ASSERT_EQ(single.rules().size(), 1u);
    EXPECT_EQ(single.rules()[0].match, IdMapRule::Match::Id);
    EXPECT_EQ(single.find(5, ""), 7u);
    EXPECT_EQ(single.find(4, ""), std::nullopt);
    const IdMap reversed = parse_ok("10-5:1");
    for (std::uint32_t id : {4u, 5u, 7u, 10u, 11u})
        EXPECT_EQ(reversed.find(id, ""), std::nullopt) << id;
    EXPECT_EQ(parse_ok("0-4294967295:3").find(4294967295u, ""), 3u);
}

// Verifies upstream id_parse's overflow test: 2^32 fails, but a longer number whose
// steps never go down wraps silently (9999999999 becomes 1410065407).
TEST(IdMapParse, IdParseOverflowQuirk)
{
    const IdMapFailure f = parse_fail("4294967296:1");
    EXPECT_EQ(f.message, "Invalid ID number: 4294967296");
    EXPECT_EQ(f.upstream_line, 85);
    EXPECT_EQ(parse_fail("1:4294967296").message, "Invalid ID number: 4294967296");
    EXPECT_EQ(parse_fail("1-4294967296:1").message, "Invalid ID number: 4294967296");
    EXPECT_EQ(parse_ok("9999999999:2").find(1410065407u, ""), 2u);
    EXPECT_EQ(parse_ok("1:9999999999").find(1, ""), 1410065407u);
}

// Verifies the fatal errors' texts and upstream line numbers.
TEST(IdMapParse, FatalErrors)
{
    IdMapFailure f = parse_fail("bad");
    EXPECT_EQ(f.message, "No colon found in --usermap: bad");
    EXPECT_EQ(f.upstream_line, 514);
    EXPECT_EQ(parse_fail("a:1,", IdKind::Group).message, "No colon found in --groupmap: ");
    EXPECT_EQ(parse_fail("").message, "No colon found in --usermap: ");
    EXPECT_EQ(parse_fail("a:1,,b:2").message, "No colon found in --usermap: ");
    f = parse_fail("a:");
    EXPECT_EQ(f.message, "No name found after colon --usermap: a:");
    EXPECT_EQ(f.upstream_line, 519);
    f = parse_fail("12a:0");
    EXPECT_EQ(f.message, "Invalid number in --usermap: 12a");
    EXPECT_EQ(f.upstream_line, 529);
    EXPECT_EQ(parse_fail("1-:0").message, "Invalid number in --usermap: 1-");
    EXPECT_EQ(parse_fail("1-2-3:0").message, "Invalid number in --usermap: 1-2-3");
    EXPECT_EQ(parse_fail("5*:12", IdKind::Group).message, "Invalid number in --groupmap: 5*");
}

// Verifies that items are checked from the last to the first: the rightmost error is
// the one reported, and unknown names are reported right to left, before a failure
// further left.
TEST(IdMapParse, RightToLeftMessages)
{
    EXPECT_EQ(parse_fail("bad,12a:0").message, "Invalid number in --usermap: 12a");
    IdMapParse p = IdMap::parse("x:nosuch1,y:nosuch2", IdKind::User, fake_db());
    EXPECT_FALSE(p.failure);
    EXPECT_EQ(p.messages, (std::vector<std::string>{"Unknown --usermap name on receiver: nosuch2",
                                                    "Unknown --usermap name on receiver: nosuch1"}));
    EXPECT_TRUE(p.map.empty());
    p = IdMap::parse("bad,g:nogroup", IdKind::Group, fake_db());
    ASSERT_TRUE(p.failure);
    EXPECT_EQ(p.failure->message, "No colon found in --groupmap: bad");
    EXPECT_EQ(p.messages, std::vector<std::string>{"Unknown --groupmap name on receiver: nogroup"});
}

// Verifies that an unknown TO drops only its own item; TO may itself hold a colon, and
// FROM may be empty (it then matches only ids the sender did not name).
TEST(IdMapParse, UnknownTargetsAndOddNames)
{
    IdMapParse p = IdMap::parse("1:nosuch,2:nobody", IdKind::User, fake_db());
    EXPECT_FALSE(p.failure);
    ASSERT_EQ(p.map.rules().size(), 1u);
    EXPECT_EQ(p.map.find(2, ""), 65534u);
    EXPECT_EQ(p.map.find(1, ""), std::nullopt);
    EXPECT_EQ(parse_ok("x:a:b").find(3, "x"), 77u);
    const IdMap empty_from = parse_ok(":5");
    EXPECT_EQ(empty_from.find(3, ""), 5u);
    EXPECT_EQ(empty_from.find(3, "bob"), std::nullopt);
    // A name starting with '-' is a name, not a number.
    EXPECT_EQ(parse_ok("-5:5").find(9, "-5"), 5u);
}

// Verifies that the text ends at a NUL, as upstream's C string does.
TEST(IdMapParse, StopsAtNul)
{
    const IdMap m = parse_ok(std::string_view("1:2\0garbage", 11));
    ASSERT_EQ(m.rules().size(), 1u);
    EXPECT_EQ(m.find(1, ""), 2u);
}

// Verifies recv_add_id's choice: the map first, then the local id of the sender's name
// (never for id 0), else the id unchanged; names end at a NUL.
TEST(ResolveReceivedId, MapThenNameThenId)
{
    const IdMap m = parse_ok("1000-2000:1,0:3");
    EXPECT_EQ(resolve_received_id(&m, 1500, "alice", fake_db()), 1u);
    EXPECT_EQ(resolve_received_id(&m, 0, "root", fake_db()), 3u);
    EXPECT_EQ(resolve_received_id(&m, 5, "alice", fake_db()), 1001u);
    EXPECT_EQ(resolve_received_id(nullptr, 5, "alice", fake_db()), 1001u);
    EXPECT_EQ(resolve_received_id(nullptr, 5, "stranger", fake_db()), 5u);
    EXPECT_EQ(resolve_received_id(nullptr, 5, "", fake_db()), 5u);
    EXPECT_EQ(resolve_received_id(nullptr, 0, "nobody", fake_db()), 0u);
    EXPECT_EQ(resolve_received_id(nullptr, 5, std::string_view("alice\0x", 7), fake_db()), 1001u);
    const IdMap named = parse_ok("alice:2");
    EXPECT_EQ(resolve_received_id(&named, 5, std::string_view("alice\0x", 7), fake_db()), 2u);
}

// ---- through the push's file lists -------------------------------------------------

protocol::FileEntry owned(const std::string& name, std::uint32_t uid, std::uint32_t gid)
{
    protocol::FileEntry e;
    e.name = name;
    e.mode = protocol::kModeRegular | 0644;
    e.mtime = 1'600'000'000;
    e.uid = uid;
    e.gid = gid;
    return e;
}

// What local_gid() gives for a gid no map touches: the gid as root; for anyone else
// nothing, unless the process is in that group (upstream FLAG_SKIP_GROUP).
std::optional<std::uint32_t> unmapped_gid(std::uint32_t gid)
{
    if (::geteuid() == 0 || gid == ::getegid())
        return gid;
    return std::nullopt;
}

// A protocol-29 list (id lists after it, id 0 not named) with owners 0, 4000 ("nosuch-
// xyzzy-user") and 4001 (no name).
std::string list_29(protocol::FlistOptions& o)
{
    o.protocol = 29;
    o.preserve_uid = true;
    o.preserve_gid = true;
    auto names = [](std::uint32_t id) -> std::optional<std::string> {
        if (id == 4000)
            return std::string("nosuch-xyzzy-user");
        if (id == 0)
            return std::string("root");
        return std::nullopt;
    };
    protocol::FlistEncoder enc(o, names, names);
    std::string wire;
    enc.begin_list();
    enc.put_entry(wire, owned("a", 0, 0));
    enc.put_entry(wire, owned("b", 4000, 4000));
    enc.put_entry(wire, owned("c", 4001, 4001));
    enc.end_list(wire, 0);
    enc.put_first_list_trailer(wire, 0);
    return wire;
}

// Verifies that a usermap applies to every owner, including root by the name "root" that
// a sender without CF_ID0_NAMES is assumed to use, and that unmapped ids stay numeric.
TEST(ReceiverFileListsIdMaps, MapsOwnersAtProtocol29)
{
    protocol::FlistOptions o;
    const std::string wire = list_29(o);
    ReceiverFileLists lists(o, {}, false);
    std::vector<std::string> reported;
    const std::uint32_t my_gid = ::getegid();
    lists.set_id_maps(std::string("root:7,4000-4000:8"), "4001:" + std::to_string(my_gid),
                      [&](const std::string& t) { reported.push_back(t); });
    protocol::MemorySource src(wire);
    lists.read_first(src);
    EXPECT_TRUE(reported.empty());
    EXPECT_EQ(lists.local_uid(0), 7u);
    EXPECT_EQ(lists.local_uid(4000), 8u);
    EXPECT_EQ(lists.local_uid(4001), 4001u);
    EXPECT_EQ(lists.local_gid(4001), std::optional<std::uint32_t>(my_gid));
    EXPECT_EQ(lists.local_gid(4000), unmapped_gid(4000));
}

// Verifies that with numeric ids (the module's "numeric ids" or --numeric-ids) names are
// ignored: a name item does not match, "*" and numbers do, and without a map owners are
// kept as sent.
TEST(ReceiverFileListsIdMaps, NumericIdsIgnoreNames)
{
    protocol::FlistOptions o;
    const std::string wire = list_29(o);
    ReceiverFileLists lists(o, {}, true);
    lists.set_id_maps(std::string("root:7,nosuch-xyzzy-user:5,*:6"), std::nullopt, {});
    protocol::MemorySource src(wire);
    lists.read_first(src);
    EXPECT_EQ(lists.local_uid(0), 6u);
    EXPECT_EQ(lists.local_uid(4000), 6u);
    EXPECT_EQ(lists.local_gid(4000), unmapped_gid(4000));

    ReceiverFileLists plain(o, {}, true);
    protocol::MemorySource src2(wire);
    plain.read_first(src2);
    EXPECT_EQ(plain.local_uid(4000), 4000u);
}

// Verifies that a malformed map ends the session with exit code 1 at upstream's site,
// after the messages for items to its right.
TEST(ReceiverFileListsIdMaps, MalformedMapThrowsSyntax)
{
    protocol::FlistOptions o;
    o.preserve_uid = o.preserve_gid = true;
    ReceiverFileLists lists(o, {}, false);
    std::vector<std::string> reported;
    try {
        lists.set_id_maps(std::string("1:2"), std::string("x,1:nosuch-xyzzy-group"),
                          [&](const std::string& t) { reported.push_back(t); });
        FAIL() << "accepted a map without a colon";
    } catch (const protocol::ProtocolError& e) {
        EXPECT_EQ(e.code(), protocol::ExitCode::Syntax);
        EXPECT_STREQ(e.what(), "No colon found in --groupmap: x");
        ASSERT_NE(e.site().file, nullptr);
        EXPECT_STREQ(e.site().file, "uidlist.c");
        EXPECT_EQ(e.site().line, 514);
    }
    EXPECT_EQ(reported, std::vector<std::string>{"Unknown --groupmap name on receiver: nosuch-xyzzy-group\n"});
}

} // namespace
} // namespace ocr::transfer
