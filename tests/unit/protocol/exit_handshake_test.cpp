// SPDX-License-Identifier: MIT
#include "protocol/exit_handshake.hpp"

#include "protocol/mux.hpp"

#include <gtest/gtest.h>

namespace ocr::protocol {
namespace {

// Verifies the exchange captured from a 3.5.0 client pulling from a write-only module:
// its checksum list, its filter list in a data frame, then an empty MSG_ERROR_EXIT.
TEST(ExitHandshake, SeesTheClientsAnswerAfterItsLists)
{
    ExitHandshakeWatcher w(1);
    const std::string list = std::string("\x1e") + "xxh128 xxh3 xxh64 md5 md4 sha1";
    const std::string filters("\x04\x00\x00\x07\x00\x00\x00\x00", 8);
    const std::string answer("\x00\x00\x00\x5d", 4);
    EXPECT_FALSE(w.feed(list));
    EXPECT_FALSE(w.feed(filters));
    // Byte by byte, to cover split headers.
    for (std::size_t i = 0; i + 1 < answer.size(); ++i)
        EXPECT_FALSE(w.feed(answer.substr(i, 1)));
    EXPECT_TRUE(w.feed(answer.substr(3)));
    EXPECT_FALSE(w.broken());
}

// Verifies that two-byte vstring lengths and large skipped payloads are handled, and that
// bytes which cannot be a multiplexed header mark the stream broken.
TEST(ExitHandshake, LongListsAndGarbage)
{
    ExitHandshakeWatcher w(1);
    std::string list = std::string("\x81\x00", 2) + std::string(256, 'x');
    EXPECT_FALSE(w.feed(list));
    EXPECT_FALSE(w.feed(encode_frame(MsgCode::Data, std::string(70000, 'y'))));
    EXPECT_TRUE(w.feed(encode_frame(MsgCode::ErrorExit, std::string("\x01\x00\x00\x00", 4))));
    ExitHandshakeWatcher g(0);
    EXPECT_FALSE(g.feed(std::string("\x00\x00\x00\x01", 4)));
    EXPECT_TRUE(g.broken());
}

} // namespace
} // namespace ocr::protocol
