// SPDX-License-Identifier: MIT
#include "protocol/checksum_negotiation.hpp"

#include "protocol/memory_stream.hpp"
#include "protocol/protocol_error.hpp"
#include "protocol/wire.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace ocr::protocol {
namespace {

ChecksumNegotiationInputs listed(std::string client, int protocol = 32)
{
    ChecksumNegotiationInputs in;
    in.protocol = protocol;
    in.proper_seed_order = true;
    in.negotiated_strings = true;
    in.client_list = PeerNameList{client, false, client.size()};
    return in;
}

ChecksumNegotiationInputs chosen(std::string choice, int protocol = 32, bool seed_fix = true)
{
    ChecksumNegotiationInputs in;
    in.protocol = protocol;
    in.proper_seed_order = seed_fix;
    in.negotiated_strings = protocol >= 30;
    in.checksum_choice = std::move(choice);
    return in;
}

ChecksumSelection ok(const ChecksumNegotiationInputs& in)
{
    auto r = negotiate_checksums(in);
    if (!std::holds_alternative<ChecksumSelection>(r)) {
        ADD_FAILURE() << "negotiation failed: " << std::get<ChecksumNegotiationError>(r).message;
        return {};
    }
    return std::get<ChecksumSelection>(r);
}

ChecksumNegotiationError failed(const ChecksumNegotiationInputs& in)
{
    auto r = negotiate_checksums(in);
    if (!std::holds_alternative<ChecksumNegotiationError>(r)) {
        ADD_FAILURE() << "negotiation unexpectedly chose " << std::get<ChecksumSelection>(r).name;
        return {};
    }
    return std::get<ChecksumNegotiationError>(r);
}

// Verifies that a stock client list gets xxh128 and that the choice counts as negotiated.
TEST(ChecksumNegotiation, StockClientGetsXxh128)
{
    const ChecksumSelection s = ok(listed("xxh128 xxh3 xxh64 md5 md4 sha1"));
    EXPECT_EQ(s.transfer.kind, ChecksumKind::Xxh128);
    EXPECT_EQ(s.file_list, ChecksumKind::Xxh128);
    EXPECT_TRUE(s.negotiated);
    EXPECT_EQ(s.name, "xxh128");
    EXPECT_FALSE(s.forces_whole_file());
}

// Verifies 3.5.0's rule: the server takes the first name of its own list that the client
// offers, whatever order the client lists them in.
TEST(ChecksumNegotiation, ServerPreferenceWins)
{
    EXPECT_EQ(ok(listed("md5 xxh64 xxh128")).transfer.kind, ChecksumKind::Xxh128);
    EXPECT_EQ(ok(listed("sha1 md4")).transfer.kind, ChecksumKind::Md4);
    EXPECT_EQ(ok(listed("sha1   none")).transfer.kind, ChecksumKind::Sha1);
    // A server list of our own choosing changes the outcome.
    ChecksumNegotiationInputs in = listed("xxh128 md5");
    in.server_list = "md5 xxh128";
    EXPECT_EQ(ok(in).transfer.kind, ChecksumKind::Md5);
}

// Verifies that names match case-insensitively, that "xxhash" selects xxh64 under its main
// name, and that unknown names are skipped.
TEST(ChecksumNegotiation, NamesInClientList)
{
    const ChecksumSelection s = ok(listed("bogus XXHASH"));
    EXPECT_EQ(s.transfer.kind, ChecksumKind::Xxh64);
    EXPECT_EQ(s.name, "xxh64");
    EXPECT_EQ(ok(listed("MD5")).transfer.kind, ChecksumKind::Md5);
    // Only spaces separate names, as in upstream's parser.
    EXPECT_EQ(failed(listed("md5,md4")).exit_code, ExitCode::Unsupported);
}

// Verifies the seed placement a negotiated or named MD4/MD5 gets (what Debian's 3.5.0
// computes: MD5 through OpenSSL, seed first; MD4 built in, seed last).
TEST(ChecksumNegotiation, SeedPlacementByName)
{
    EXPECT_EQ(ok(listed("md5")).transfer, (TransferChecksum{ChecksumKind::Md5, SeedPlacement::Prepend}));
    EXPECT_EQ(ok(listed("md4")).transfer, (TransferChecksum{ChecksumKind::Md4, SeedPlacement::Append}));
    ChecksumNegotiationInputs no_fix = listed("md5");
    no_fix.proper_seed_order = false;
    EXPECT_EQ(ok(no_fix).transfer.seed_placement, SeedPlacement::Prepend);
    EXPECT_EQ(ok(chosen("md5", 29, false)).transfer, (TransferChecksum{ChecksumKind::Md5, SeedPlacement::Prepend}));
    EXPECT_EQ(ok(chosen("md4", 29, false)).transfer, (TransferChecksum{ChecksumKind::Md4, SeedPlacement::Append}));
}

// Verifies that a list negotiation with nothing in common fails with exit code 4 and no
// text from the server (the client reports it), also for an empty list.
TEST(ChecksumNegotiation, NoCommonName)
{
    ChecksumNegotiationError e = failed(listed("sha256 blake3"));
    EXPECT_EQ(e.exit_code, ExitCode::Unsupported);
    EXPECT_EQ(e.message, "");
    EXPECT_EQ(failed(listed("")).exit_code, ExitCode::Unsupported);
}

// Verifies the implied choice when nothing is exchanged: MD5 from protocol 30, with the
// seed last unless CF_CHKSUM_SEED_FIX was agreed, and the old MD4 below 30.
TEST(ChecksumNegotiation, ImpliedChoice)
{
    ChecksumNegotiationInputs in;
    in.protocol = 30;
    in.proper_seed_order = false;
    ChecksumSelection s = ok(in);
    EXPECT_EQ(s.transfer, (TransferChecksum{ChecksumKind::Md5, SeedPlacement::Append}));
    EXPECT_EQ(s.file_list, ChecksumKind::Md5);
    EXPECT_FALSE(s.negotiated);
    EXPECT_EQ(s.name, "md5");
    in.proper_seed_order = true;
    EXPECT_EQ(ok(in).transfer, (TransferChecksum{ChecksumKind::Md5, SeedPlacement::Prepend}));
    in.protocol = 29;
    in.proper_seed_order = false;
    s = ok(in);
    EXPECT_EQ(s.transfer.kind, ChecksumKind::Md4Old);
    EXPECT_EQ(s.file_list, ChecksumKind::Md4Old);
    EXPECT_EQ(s.name, "md4");
}

// Verifies that without an exchange our own list is still checked against the implied
// name, failing with upstream's three lines.
TEST(ChecksumNegotiation, ImpliedNameMissingFromServerList)
{
    ChecksumNegotiationInputs in;
    in.protocol = 31;
    in.server_list = "xxh128 sha1";
    const ChecksumNegotiationError e = failed(in);
    EXPECT_EQ(e.exit_code, ExitCode::Unsupported);
    EXPECT_EQ(e.message, "Failed to negotiate a checksum choice.\nClient list: md5\nServer list: xxh128 sha1\n");
    in.server_list = "";
    EXPECT_EQ(failed(in).message, "Failed to negotiate a checksum choice.\nClient list: md5\nServer list: INVALID\n");
}

// Verifies --checksum-choice forms: one name, two names (transfer, file list), "auto" in
// either place, and "none" forcing whole-file transfers.
TEST(ChecksumNegotiation, ChecksumChoice)
{
    ChecksumSelection s = ok(chosen("md5,sha1"));
    EXPECT_EQ(s.transfer, (TransferChecksum{ChecksumKind::Md5, SeedPlacement::Prepend}));
    EXPECT_EQ(s.file_list, ChecksumKind::Sha1);
    EXPECT_FALSE(s.negotiated);
    EXPECT_EQ(s.name, "md5,sha1");
    s = ok(chosen("auto,xxh3", 30, false));
    EXPECT_EQ(s.transfer, (TransferChecksum{ChecksumKind::Md5, SeedPlacement::Append}));
    EXPECT_EQ(s.file_list, ChecksumKind::Xxh3);
    s = ok(chosen("xxh64,auto", 29, false));
    EXPECT_EQ(s.transfer.kind, ChecksumKind::Xxh64);
    EXPECT_EQ(s.file_list, ChecksumKind::Md4Old);
    s = ok(chosen("NONE"));
    EXPECT_EQ(s.transfer.kind, ChecksumKind::None);
    EXPECT_TRUE(s.forces_whole_file());
    EXPECT_EQ(ok(chosen("xxhash")).transfer.kind, ChecksumKind::Xxh64);
}

// Verifies upstream's "unknown checksum name" text, including its habit of printing the
// rest of the option after a bad first name.
TEST(ChecksumNegotiation, UnknownChoiceName)
{
    ChecksumNegotiationError e = failed(chosen("blake2"));
    EXPECT_EQ(e.message, "unknown checksum name: blake2\n");
    EXPECT_EQ(e.exit_code, ExitCode::Unsupported);
    EXPECT_EQ(failed(chosen("md5,blake2")).message, "unknown checksum name: blake2\n");
    EXPECT_EQ(failed(chosen("blake2,md5")).message, "unknown checksum name: blake2,md5\n");
    EXPECT_EQ(failed(chosen("md5,")).message, "unknown checksum name: \n");
}

// Verifies that inputs which cannot come from a real session are refused.
TEST(ChecksumNegotiation, InconsistentInputs)
{
    ChecksumNegotiationInputs in;
    in.negotiated_strings = true; // but no client list
    EXPECT_THROW((void)negotiate_checksums(in), std::invalid_argument);
    in.negotiated_strings = false;
    in.client_list = PeerNameList{"md5", false, 3};
    EXPECT_THROW((void)negotiate_checksums(in), std::invalid_argument);
}

// Verifies reading a peer's list, and that an over-long one is not read and makes the
// negotiation fail with upstream's text.
TEST(ChecksumNegotiation, ReadPeerNameList)
{
    std::string wire;
    put_vstring(wire, "xxh128 md5");
    wire += "rest";
    MemorySource src(wire);
    const PeerNameList list = read_peer_name_list(src);
    EXPECT_EQ(list.names, "xxh128 md5");
    EXPECT_FALSE(list.over_long);
    EXPECT_EQ(src.remaining(), 4u);

    std::string long_wire;
    put_vstring(long_wire, std::string(300, 'a'));
    MemorySource long_src(long_wire);
    const PeerNameList too_long = read_peer_name_list(long_src);
    EXPECT_TRUE(too_long.over_long);
    EXPECT_EQ(too_long.length, 300u);
    EXPECT_EQ(long_src.remaining(), 300u);
    ChecksumNegotiationInputs in = listed("");
    in.client_list = too_long;
    EXPECT_EQ(failed(in).message, "over-long vstring received (300 > 255)\n");

    std::string exact;
    put_vstring(exact, std::string(255, 'b'));
    MemorySource exact_src(exact);
    EXPECT_FALSE(read_peer_name_list(exact_src).over_long);

    MemorySource truncated(std::string_view("\x05md", 3));
    EXPECT_THROW((void)read_peer_name_list(truncated), ProtocolError);
}

} // namespace
} // namespace ocr::protocol
