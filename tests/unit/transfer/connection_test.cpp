// SPDX-License-Identifier: MIT
#include "transfer/connection.hpp"

#include "protocol/protocol_error.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <thread>
#include <vector>

namespace ocr::transfer {
namespace {

struct Pair {
    int ours = -1;
    int theirs = -1;
    Pair()
    {
        int sv[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        ours = sv[0];
        theirs = sv[1];
    }
    ~Pair()
    {
        ::close(ours);
        if (theirs >= 0)
            ::close(theirs);
    }
    void peer_write(const std::string& bytes) const
    {
        ASSERT_EQ(::write(theirs, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    }
    std::string peer_read_all()
    {
        ::shutdown(ours, SHUT_WR);
        std::string out;
        char buf[65536];
        for (;;) {
            const ssize_t n = ::read(theirs, buf, sizeof buf);
            if (n <= 0)
                return out;
            out.append(buf, static_cast<std::size_t>(n));
        }
    }
};

struct Recorder : MessageHandler {
    std::vector<std::pair<protocol::MsgCode, std::string>> seen;
    void on_message(protocol::MsgCode code, std::string_view payload) override
    {
        seen.emplace_back(code, std::string(payload));
    }
};

std::string read_n(Connection& c, std::size_t n)
{
    std::string s(n, '\0');
    c.read_exact(std::span<std::byte>(reinterpret_cast<std::byte*>(s.data()), n));
    return s;
}

// Verifies that data split across frames, empty keep-alive frames and messages in between
// come out as one continuous stream with the messages handed to the handler in order.
TEST(Connection, DemultiplexesDataAndMessages)
{
    Pair p;
    Recorder rec;
    Connection c({p.ours, std::chrono::seconds(0), 0, "sender", {}});
    c.set_handler(&rec);
    c.start_mux_in();
    p.peer_write(protocol::encode_frame(protocol::MsgCode::Data, "hel") + protocol::encode_frame(protocol::MsgCode::Data, "") +
                 protocol::encode_frame(protocol::MsgCode::Info, "note\n") + protocol::encode_frame(protocol::MsgCode::Data, "lo"));
    EXPECT_EQ(read_n(c, 5), "hello");
    ASSERT_EQ(rec.seen.size(), 1u);
    EXPECT_EQ(rec.seen[0].first, protocol::MsgCode::Info);
    EXPECT_EQ(rec.seen[0].second, "note\n");
}

// Verifies that output is framed as MSG_DATA once multiplexing starts, raw before, and that
// a message keeps its place after the data written before it.
TEST(Connection, FramesOutputInOrder)
{
    Pair p;
    Connection c({p.ours, std::chrono::seconds(0), 0, "sender", {}});
    c.write("raw");
    c.start_mux_out();
    c.write("data");
    c.send_message(protocol::MsgCode::Error, "oops\n");
    c.flush();
    EXPECT_EQ(p.peer_read_all(), "raw" + protocol::encode_frame(protocol::MsgCode::Data, "data") +
                                     protocol::encode_frame(protocol::MsgCode::Error, "oops\n"));
    // Upstream counts only what passes its buffered I/O, which starts with multiplexing.
    EXPECT_EQ(c.total_written(), 8u + 9u);
}

// Verifies that input the peer sent while we flushed our output is returned at once: the
// peer may be waiting for that output's answer and send nothing more (a pull at protocol 29
// hung so, with the client's requests read during the flush of our echoes).
TEST(Connection, InputReadWhileFlushingIsNotWaitedFor)
{
    Pair p;
    Connection c({p.ours, std::chrono::seconds(2), 0, "sender", {}});
    p.peer_write("abcd");
    c.write("out");
    EXPECT_EQ(read_n(c, 4), "abcd");
    EXPECT_EQ(p.peer_read_all(), "out");
}

// Verifies that with messages ahead, a message overtakes data not yet committed for sending
// but not data already committed, and that the overtaken data frame stays whole.
TEST(Connection, MessagesAheadOvertakeUncommittedData)
{
    Pair p;
    Connection c({p.ours, std::chrono::seconds(0), 0, "generator", {}});
    c.start_mux_out();
    c.set_messages_ahead(true);
    c.write("first");
    c.send_message(protocol::MsgCode::Info, "a\n"); // nothing committed yet: goes first
    c.flush();                                       // commits and sends both
    c.write("second");
    c.send_message(protocol::MsgCode::Deleted, "x");
    c.write("-more");
    c.flush();
    EXPECT_EQ(p.peer_read_all(), protocol::encode_frame(protocol::MsgCode::Info, "a\n") +
                                     protocol::encode_frame(protocol::MsgCode::Data, "first") +
                                     protocol::encode_frame(protocol::MsgCode::Deleted, "x") +
                                     protocol::encode_frame(protocol::MsgCode::Data, "second-more"));
}

// Verifies upstream's statistics: bytes moved before start_mux_out() (protocol setup) are
// not counted, input read ahead but not yet consumed then is.
TEST(Connection, TotalsStartWithMultiplexing)
{
    Pair p;
    Connection c({p.ours, std::chrono::seconds(0), 0, "sender", std::string("setupMORE")});
    EXPECT_EQ(read_n(c, 5), "setup");
    c.write("seed");
    c.start_mux_out();
    EXPECT_EQ(c.total_read(), 4u);
    EXPECT_EQ(c.total_written(), 0u);
    c.write("x");
    c.flush();
    EXPECT_EQ(c.total_written(), 5u);
    EXPECT_EQ(read_n(c, 4), "MORE");
    p.peer_write("abc");
    EXPECT_EQ(read_n(c, 3), "abc");
    EXPECT_EQ(c.total_read(), 7u);
    EXPECT_EQ(p.peer_read_all(), "seed" + protocol::encode_frame(protocol::MsgCode::Data, "x"));
}

// Verifies the data counters behind the transfer log's %b/%c (upstream io.c
// total_data_written/total_data_read): a write counts as soon as it is buffered, before
// any flush; frame headers and messages never count; input counts as it is consumed.
TEST(Connection, DataCountersCountBufferedDataOnly)
{
    Pair p;
    Recorder rec;
    Connection c({p.ours, std::chrono::seconds(0), 0, "sender", {}});
    c.set_handler(&rec);
    c.start_mux_out();
    c.start_mux_in();
    c.write("abcd");
    EXPECT_EQ(c.data_written(), 4u);
    EXPECT_EQ(c.total_written(), 0u); // nothing reached the socket yet
    c.send_message(protocol::MsgCode::Info, "note\n");
    c.write("ef");
    EXPECT_EQ(c.data_written(), 6u);
    p.peer_write(protocol::encode_frame(protocol::MsgCode::Data, "xy") +
                 protocol::encode_frame(protocol::MsgCode::Info, "hi\n") +
                 protocol::encode_frame(protocol::MsgCode::Data, "z"));
    EXPECT_EQ(read_n(c, 3), "xyz");
    EXPECT_EQ(c.data_read(), 3u);
    EXPECT_EQ(c.data_written(), 6u);
}

// Verifies in-place framing: writes of any size become MSG_DATA frames of at most 64 KiB
// holding the bytes in order, a message closes the open frame, and no empty frame is sent.
TEST(Connection, FramesLargeAndSmallWritesInPlace)
{
    Pair p;
    Connection c({p.ours, std::chrono::seconds(0), 0, "sender", {}});
    c.start_mux_out();
    std::string data;
    for (std::size_t i = 0; i < 300000; ++i)
        data.push_back(static_cast<char>(i * 13 % 251));
    std::thread reader([&] {
        std::string got;
        char buf[65536];
        for (;;) {
            const ssize_t n = ::read(p.theirs, buf, sizeof buf);
            if (n <= 0)
                break;
            got.append(buf, static_cast<std::size_t>(n));
        }
        std::string payload;
        std::vector<std::pair<protocol::MsgCode, std::size_t>> frames;
        for (std::size_t pos = 0; pos + 4 <= got.size();) {
            std::uint8_t head[4];
            std::memcpy(head, got.data() + pos, 4);
            const auto h = protocol::decode_frame_header(head);
            ASSERT_TRUE(h);
            frames.emplace_back(h->code, h->length);
            if (h->code == protocol::MsgCode::Data)
                payload += got.substr(pos + 4, h->length);
            else
                EXPECT_EQ(got.substr(pos + 4, h->length), "note\n");
            pos += 4 + h->length;
        }
        EXPECT_EQ(payload, data + "tail");
        for (const auto& [code, len] : frames) {
            EXPECT_GT(len, 0u);
            EXPECT_LE(len, 65536u);
        }
        // The message sits between the 300000 bytes and the tail.
        std::size_t before = 0;
        for (const auto& [code, len] : frames) {
            if (code != protocol::MsgCode::Data)
                break;
            before += len;
        }
        EXPECT_EQ(before, data.size());
    });
    c.write(std::string_view(data).substr(0, 10));
    c.write(std::string_view(data).substr(10, 200000));
    c.write(std::string_view(data).substr(200010));
    c.send_message(protocol::MsgCode::Info, "note\n");
    c.write("tail");
    c.flush();
    ::shutdown(p.ours, SHUT_WR);
    reader.join();
}

// Verifies that discard_unsent_data() drops only the data written since the last message
// or flush, keeping what was committed before.
TEST(Connection, DiscardDropsOnlyUncommittedData)
{
    Pair p;
    Connection c({p.ours, std::chrono::seconds(0), 0, "sender", {}});
    c.start_mux_out();
    c.write("kept");
    c.send_message(protocol::MsgCode::Error, "e\n");
    c.write("dropped");
    c.discard_unsent_data();
    c.send_message(protocol::MsgCode::Error, "f\n");
    c.flush();
    EXPECT_EQ(p.peer_read_all(), protocol::encode_frame(protocol::MsgCode::Data, "kept") +
                                     protocol::encode_frame(protocol::MsgCode::Error, "e\n") +
                                     protocol::encode_frame(protocol::MsgCode::Error, "f\n"));
}

// Verifies upstream's texts for an oversized message and for the end of the stream.
TEST(Connection, HostileInputIsAStreamError)
{
    {
        Pair p;
        Recorder rec;
        Connection c({p.ours, std::chrono::seconds(0), 0, "sender", {}});
        c.set_handler(&rec);
        c.start_mux_in();
        p.peer_write(protocol::encode_frame_header(protocol::MsgCode::Info, 100000));
        try {
            (void)read_n(c, 1);
            FAIL() << "no error";
        } catch (const protocol::ProtocolError& e) {
            EXPECT_EQ(e.code(), protocol::ExitCode::StreamIo);
            EXPECT_EQ(std::string(e.what()), "multiplexing overflow 2:100000 [sender]");
            EXPECT_EQ(e.site().line, 1838);
        }
    }
    {
        Pair p;
        Connection c({p.ours, std::chrono::seconds(0), 0, "sender", {}});
        p.peer_write("ab");
        ::close(p.theirs);
        p.theirs = -1;
        try {
            (void)read_n(c, 3);
            FAIL() << "no error";
        } catch (const protocol::ProtocolError& e) {
            EXPECT_EQ(std::string(e.what()), "rsync: connection unexpectedly closed (2 bytes received so far) [sender]");
        }
    }
}

// Verifies upstream io.c:read_a_msg's texts per case: a long message of a fixed-size tag
// is an invalid multi-message, an unknown tag (or one below the base) is unexpected, and
// with incremental recursion the role reads "sender/inc".
TEST(Connection, MessageErrorTextsAreUpstreams)
{
    struct Case {
        std::string header;
        bool inc;
        std::string text;
        int line;
    };
    const std::vector<Case> cases = {
        {protocol::encode_frame_header(protocol::MsgCode::Success, 6000), false, "invalid multi-message 100:6000 [sender]",
         1799},
        {protocol::encode_frame_header(protocol::MsgCode::Deleted, 5120), true,
         "multiplexing overflow 101:5120 [sender/inc]", 1838},
        {protocol::encode_frame_header(protocol::MsgCode::Stats, 9000), true, "invalid multi-message 10:9000 [sender/inc]",
         1799},
        {std::string("\x04\x00\x00\x12", 4), true, "unexpected tag 11 [sender/inc]", 1896}, // 11 + base 7
        {std::string("\x04\x00\x00\x32", 4), false, "unexpected tag 43 [sender]", 1896},
        {std::string("\x04\x00\x00\x03", 4), false, "unexpected tag -4 [sender]", 1896},
    };
    for (const Case& k : cases) {
        Pair p;
        Recorder rec;
        Connection c({p.ours, std::chrono::seconds(0), 0, "sender", {}});
        c.set_handler(&rec);
        c.set_inc_recurse(k.inc);
        c.start_mux_in();
        p.peer_write(k.header);
        try {
            (void)read_n(c, 1);
            ADD_FAILURE() << "no error for " << k.text;
        } catch (const protocol::ProtocolError& e) {
            EXPECT_EQ(e.code(), protocol::ExitCode::StreamIo);
            EXPECT_EQ(std::string(e.what()), k.text);
            EXPECT_EQ(std::string(e.site().file), "io.c");
            EXPECT_EQ(e.site().line, k.line) << k.text;
        }
        EXPECT_TRUE(rec.seen.empty());
    }
}

// Verifies that a silent peer trips the I/O timeout before multiplexing (when no keep-alive
// can be sent) with upstream's exit code.
TEST(Connection, Timeout)
{
    Pair p;
    Connection c({p.ours, std::chrono::seconds(1), 0, "sender", {}});
    try {
        (void)read_n(c, 1);
        FAIL() << "no timeout";
    } catch (const protocol::ProtocolError& e) {
        EXPECT_EQ(e.code(), protocol::ExitCode::Timeout);
        EXPECT_EQ(std::string(e.what()), "[sender] io timeout after 1 seconds -- exiting");
    }
}

// Verifies that while waiting for a slow peer with multiplexed output, empty MSG_DATA
// keep-alives go out every half timeout (as upstream's sender sends them), and that they
// keep the session alive as upstream's do.
TEST(Connection, KeepAliveWhileWaiting)
{
    Pair p;
    Connection c({p.ours, std::chrono::seconds(2), 0, "sender", {}});
    c.start_mux_out();
    std::thread peer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(3500));
        p.peer_write("z");
    });
    EXPECT_EQ(read_n(c, 1), "z");
    peer.join();
    char buf[64];
    const ssize_t n = ::recv(p.theirs, buf, sizeof buf, MSG_DONTWAIT);
    ASSERT_GE(n, 4);
    EXPECT_EQ(n % 4, 0);
    EXPECT_EQ(std::string(buf, 4), protocol::encode_frame_header(protocol::MsgCode::Data, 0));
}

// Verifies that writing more than the socket buffers hold does not deadlock against a peer
// that only reads after it has written a lot itself.
TEST(Connection, WritesWhileThePeerWrites)
{
    Pair p;
    Connection c({p.ours, std::chrono::seconds(0), 0, "sender", {}});
    const std::string big(8 << 20, 'x');
    std::thread peer([&] {
        // The peer first writes a lot (like a generator sending sums), then reads.
        std::string chunk(1 << 20, 'y');
        for (int i = 0; i < 8; ++i)
            ASSERT_EQ(::write(p.theirs, chunk.data(), chunk.size()), static_cast<ssize_t>(chunk.size()));
        std::size_t got = 0;
        char buf[65536];
        while (got < big.size()) {
            const ssize_t n = ::read(p.theirs, buf, sizeof buf);
            if (n <= 0)
                break;
            got += static_cast<std::size_t>(n);
        }
        EXPECT_EQ(got, big.size());
    });
    c.write(big);
    c.flush();
    EXPECT_EQ(read_n(c, 8 << 20).size(), 8u << 20);
    peer.join();
}

// Verifies that once split, one thread can read multiplexed input while another writes
// framed output at the same time, with no byte lost or reordered in either direction
// (the push's receiver and generator share the socket this way).
TEST(Connection, SplitDirectionsReadAndWriteFromTwoThreads)
{
    Pair p;
    Connection c({p.ours, std::chrono::seconds(0), 0, "receiver", {}});
    c.start_mux_out();
    c.start_mux_in();
    Recorder rec;
    c.set_handler(&rec);
    c.split_directions();

    constexpr std::size_t kTotal = 6u << 20;
    std::string incoming;
    for (std::size_t i = 0; i < kTotal; ++i)
        incoming.push_back(static_cast<char>(i * 7 % 251));
    std::thread peer_writer([&] {
        for (std::size_t pos = 0; pos < kTotal; pos += 40000) {
            const std::string chunk = incoming.substr(pos, 40000);
            const std::string frame = protocol::encode_frame(protocol::MsgCode::Data, chunk);
            std::size_t done = 0;
            while (done < frame.size()) {
                const ssize_t n = ::write(p.theirs, frame.data() + done, frame.size() - done);
                ASSERT_GT(n, 0);
                done += static_cast<std::size_t>(n);
            }
        }
        const std::string info = protocol::encode_frame(protocol::MsgCode::Info, "hello\n");
        ASSERT_EQ(::write(p.theirs, info.data(), info.size()), static_cast<ssize_t>(info.size()));
        const std::string tail = protocol::encode_frame(protocol::MsgCode::Data, "!");
        ASSERT_EQ(::write(p.theirs, tail.data(), tail.size()), static_cast<ssize_t>(tail.size()));
    });
    std::string outgoing_seen;
    std::thread peer_reader([&] {
        char buf[65536];
        for (;;) {
            const ssize_t n = ::read(p.theirs, buf, sizeof buf);
            if (n <= 0)
                return;
            outgoing_seen.append(buf, static_cast<std::size_t>(n));
        }
    });
    std::thread writer([&] {
        const std::string block(1000, 'w');
        for (int i = 0; i < 5000; ++i)
            c.write(block);
        c.flush();
    });
    const std::string got = read_n(c, kTotal + 1);
    writer.join();
    peer_writer.join();
    ::shutdown(p.ours, SHUT_WR);
    peer_reader.join();

    EXPECT_EQ(got.substr(0, kTotal), incoming);
    EXPECT_EQ(got.back(), '!');
    ASSERT_EQ(rec.seen.size(), 1u);
    EXPECT_EQ(rec.seen[0].second, "hello\n");
    // Every written byte arrived, framed as MSG_DATA.
    std::size_t data = 0;
    for (std::size_t pos = 0; pos + 4 <= outgoing_seen.size();) {
        std::uint8_t head[4];
        std::memcpy(head, outgoing_seen.data() + pos, 4);
        const auto h = protocol::decode_frame_header(head);
        ASSERT_TRUE(h.has_value());
        EXPECT_EQ(h->code, protocol::MsgCode::Data);
        data += h->length;
        pos += 4 + h->length;
    }
    EXPECT_EQ(data, 5000u * 1000u);
}

} // namespace
} // namespace ocr::transfer
