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
    EXPECT_EQ(c.total_written(), 3u + 8u + 9u);
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
