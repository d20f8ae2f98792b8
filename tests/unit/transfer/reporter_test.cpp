// SPDX-License-Identifier: MIT
// Reporter: where each log code goes, the transfer-error flag and the exit code the
// session's error state implies, and use from two threads at once.
#include "transfer/reporter.hpp"

#include "protocol/mux.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace ocr::transfer {
namespace {

struct Socket {
    int ours = -1;
    int theirs = -1;
    Socket()
    {
        int sv[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        ours = sv[0];
        theirs = sv[1];
    }
    ~Socket()
    {
        ::close(ours);
        ::close(theirs);
    }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    std::string peer_read_all() const
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

struct LogRecord {
    std::vector<std::pair<Reporter::LogLevel, std::string>> lines;
    Reporter::LogSink sink()
    {
        return [this](Reporter::LogLevel level, std::string_view text) { lines.emplace_back(level, std::string(text)); };
    }
};

// Verifies that an ErrorXfer message sets got_xfer_error (upstream log.c:rwrite) and that
// this alone makes the exit code 23, while other codes leave it unset.
TEST(Reporter, TransferErrorMakesThePartialExitCode)
{
    Socket s;
    Connection conn({s.ours, std::chrono::seconds(0), 0, "sender", {}});
    LogRecord log;
    Reporter r(conn, 32, "sender", log.sink());
    r.emit(LogCode::Info, "info\n");
    r.emit(LogCode::Error, "error\n");
    r.emit(LogCode::Warning, "warning\n");
    r.emit(LogCode::Log, "log\n");
    EXPECT_FALSE(r.got_xfer_error());
    EXPECT_EQ(r.partial_exit_code(), 0);
    r.syserr(LogCode::ErrorXfer, 2, "link_stat \"x\" (in mod) failed");
    EXPECT_TRUE(r.got_xfer_error());
    EXPECT_EQ(r.io_error(), 0);
    EXPECT_EQ(r.partial_exit_code(), 23);
    ASSERT_EQ(log.lines.size(), 5u);
    EXPECT_EQ(log.lines[4].first, Reporter::LogLevel::Error);
    EXPECT_EQ(log.lines[4].second, "rsync: [sender] link_stat \"x\" (in mod) failed: No such file or directory (2)");
}

// Verifies that the flag is set even while nothing can be sent to the client (upstream sets
// it before it decides where the message goes).
TEST(Reporter, TransferErrorCountsBeforeMultiplexing)
{
    Socket s;
    Connection conn({s.ours, std::chrono::seconds(0), 0, "sender", {}});
    Reporter r(conn, 32, "sender", nullptr);
    r.emit(LogCode::ErrorXfer, "lost\n");
    EXPECT_TRUE(r.got_xfer_error());
    conn.flush();
    EXPECT_EQ(s.peer_read_all(), "");
}

// Verifies upstream cleanup.c's precedence: 23 (general error or transfer error) over 24
// (vanished) over 25 (deletion limit).
TEST(Reporter, PartialExitCodePrecedence)
{
    Socket s;
    Connection conn({s.ours, std::chrono::seconds(0), 0, "sender", {}});
    Reporter r(conn, 32, "sender", nullptr);
    r.add_io_error(kIoErrorDelLimit);
    EXPECT_EQ(r.partial_exit_code(), 25);
    r.add_io_error(kIoErrorVanished);
    EXPECT_EQ(r.partial_exit_code(), 24);
    r.add_io_error(kIoErrorGeneral);
    EXPECT_EQ(r.partial_exit_code(), 23);

    Reporter r2(conn, 32, "sender", nullptr);
    r2.add_io_error(kIoErrorVanished);
    r2.emit(LogCode::ErrorXfer, "x\n");
    EXPECT_EQ(r2.partial_exit_code(), 23);
}

// Verifies the client-side routing: FLOG never reaches the client, FCLIENT never the log,
// and a protocol-29 client gets errors as MSG_ERROR_XFER and warnings as MSG_INFO.
TEST(Reporter, RoutesByLogCodeAndProtocol)
{
    Socket s;
    Connection conn({s.ours, std::chrono::seconds(0), 0, "sender", {}});
    conn.start_mux_out();
    LogRecord log;
    Reporter r(conn, 29, "sender", log.sink());
    r.set_can_send(true);
    r.emit(LogCode::Log, "only the log\n");
    r.emit(LogCode::Client, "only the client\n");
    r.emit(LogCode::Error, "e\n");
    r.emit(LogCode::Warning, "w\n");
    conn.flush();
    using protocol::MsgCode;
    EXPECT_EQ(s.peer_read_all(), protocol::encode_frame(MsgCode::Info, "only the client\n") +
                                     protocol::encode_frame(MsgCode::ErrorXfer, "e\n") +
                                     protocol::encode_frame(MsgCode::Info, "w\n"));
    ASSERT_EQ(log.lines.size(), 3u);
    EXPECT_EQ(log.lines[0].second, "only the log");
    EXPECT_EQ(log.lines[1].second, "e");
    EXPECT_EQ(log.lines[2].second, "w");
    // Routing a protocol-29 error as MSG_ERROR_XFER does not make it a transfer error.
    EXPECT_FALSE(r.got_xfer_error());
}

// Verifies that two threads can emit at once without tearing frames or losing error bits
// (a push's reader and writer share one Reporter).
TEST(Reporter, TwoThreadsEmitWholeMessages)
{
    Socket s;
    Connection conn({s.ours, std::chrono::seconds(0), 0, "sender", {}});
    conn.start_mux_out();
    int lines = 0;
    std::mutex lines_mutex;
    Reporter r(conn, 32, "sender", [&](Reporter::LogLevel, std::string_view) {
        const std::lock_guard lock(lines_mutex);
        ++lines;
    });
    r.set_can_send(true);
    constexpr int kEach = 500;
    auto work = [&r](char tag, int bit) {
        for (int i = 0; i < kEach; ++i) {
            r.emit(LogCode::Info, std::string(10, tag) + "\n");
            r.add_io_error(bit);
        }
    };
    std::thread a(work, 'a', kIoErrorGeneral);
    std::thread b(work, 'b', kIoErrorVanished);
    a.join();
    b.join();
    conn.flush();
    EXPECT_EQ(lines, 2 * kEach);
    EXPECT_EQ(r.io_error(), kIoErrorGeneral | kIoErrorVanished);
    const std::string out = s.peer_read_all();
    ASSERT_EQ(out.size(), static_cast<std::size_t>(2 * kEach * (4 + 11)));
    for (std::size_t pos = 0; pos < out.size(); pos += 15) {
        const std::string payload = out.substr(pos + 4, 11);
        EXPECT_TRUE(payload == std::string(10, 'a') + "\n" || payload == std::string(10, 'b') + "\n") << payload;
    }
}

} // namespace
} // namespace ocr::transfer
