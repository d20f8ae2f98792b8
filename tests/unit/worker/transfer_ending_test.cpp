// SPDX-License-Identifier: MIT
// Tests of how a transfer session ends: the frames each ending writes and how long it
// waits for the client.
#include "worker/transfer_ending.hpp"

#include "daemon/session_setup.hpp"
#include "daemon/upstream_text.hpp"
#include "protocol/exit_code.hpp"
#include "protocol/mux.hpp"
#include "protocol/wire.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace ocr::worker {
namespace {

using protocol::MsgCode;
using Frames = std::vector<std::pair<MsgCode, std::string>>;

std::string int32_le(std::int32_t v)
{
    std::string s;
    protocol::put_i32(s, v);
    return s;
}

// A session socket whose far end the test plays.
class Session {
public:
    explicit Session(int protocol, bool am_sender = true, int timeout_s = 0)
    {
        int sv[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        ours_ = sv[0];
        theirs_ = sv[1];
        timeval tv{5, 0};
        ::setsockopt(theirs_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        conn_.emplace(transfer::Connection::Options{ours_, std::chrono::seconds(timeout_s), 0,
                                                    am_sender ? "sender" : "receiver", {}});
        conn_->start_mux_out();
        if (protocol >= 30)
            conn_->start_mux_in();
        report_.emplace(*conn_, protocol, am_sender ? "sender" : "receiver",
                        [this](transfer::Reporter::LogLevel, std::string_view line) { log_.emplace_back(line); });
        report_->set_can_send(true);
        ctx_.emplace(EndingContext{*conn_, *report_, protocol, am_sender, std::chrono::seconds(timeout_s)});
    }
    ~Session()
    {
        ctx_.reset();
        report_.reset();
        conn_.reset();
        if (ours_ >= 0)
            ::close(ours_);
        ::close(theirs_);
    }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    const EndingContext& ctx() const { return *ctx_; }
    void set_sender_totals(std::function<std::string()> totals) { ctx_->sender_totals = std::move(totals); }
    void set_role(daemon::UpstreamRole role) { ctx_->role = role; }
    transfer::Reporter& report() { return *report_; }
    transfer::Connection& conn() { return *conn_; }
    const std::vector<std::string>& log() const { return log_; }

    void client_write(const std::string& bytes) const
    {
        ASSERT_EQ(::send(theirs_, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
    }
    void client_close_write() const { ::shutdown(theirs_, SHUT_WR); }

    // Ends our side (as the worker's exit does) and returns every frame the client got.
    Frames close_and_read()
    {
        conn_.reset();
        ::close(ours_);
        ours_ = -1;
        std::string raw;
        char buf[4096];
        for (;;) {
            const ssize_t n = ::read(theirs_, buf, sizeof buf);
            if (n <= 0)
                break;
            raw.append(buf, static_cast<std::size_t>(n));
        }
        Frames frames;
        std::size_t pos = 0;
        while (raw.size() - pos >= 4) {
            const auto head = protocol::decode_frame_header(reinterpret_cast<const std::uint8_t*>(raw.data() + pos));
            EXPECT_TRUE(head);
            if (!head || raw.size() - pos - 4 < head->length)
                break;
            frames.emplace_back(head->code, raw.substr(pos + 4, head->length));
            pos += 4 + head->length;
        }
        EXPECT_EQ(pos, raw.size());
        return frames;
    }
    // Whether the client's read ended with a reset rather than an orderly close.
    bool client_sees_reset()
    {
        conn_.reset();
        ::close(ours_);
        ours_ = -1;
        char buf[4096];
        for (;;) {
            const ssize_t n = ::read(theirs_, buf, sizeof buf);
            if (n > 0)
                continue;
            return n < 0 && errno == ECONNRESET;
        }
    }

private:
    int ours_ = -1;
    int theirs_ = -1;
    std::optional<transfer::Connection> conn_;
    std::optional<transfer::Reporter> report_;
    std::optional<EndingContext> ctx_;
    std::vector<std::string> log_;
};

const daemon::UpstreamSite kSite{"rsync.c", 353};

std::string error_line(int code, daemon::UpstreamRole role = daemon::UpstreamRole::Sender)
{
    return daemon::rsync_error_line(code, kSite, role);
}

// Verifies that at protocol 31 a sender's fatal error sends the message, the error line
// and MSG_ERROR_EXIT, then reads until the client answers with its own MSG_ERROR_EXIT.
TEST(TransferEnding, FatalErrorProtocol31)
{
    Session s(31);
    s.client_write(protocol::encode_frame(MsgCode::Data, "junk") + protocol::encode_frame(MsgCode::ErrorExit, ""));
    EXPECT_EQ(end_with_fatal_error(s.ctx(), "Invalid file index: 9 (-1 - 3) [sender]\n", 2, kSite), 2);
    const Frames frames = s.close_and_read();
    const Frames expected{{MsgCode::Error, "Invalid file index: 9 (-1 - 3) [sender]\n"},
                          {MsgCode::Error, error_line(2)},
                          {MsgCode::ErrorExit, int32_le(2)}};
    EXPECT_EQ(frames, expected);
    EXPECT_EQ(error_line(2), "rsync error: protocol incompatibility (code 2) at rsync.c(353) [sender=3.5.0]\n");
}

// Verifies that data written but not yet sent is dropped by a fatal error, only the
// messages reach the client.
TEST(TransferEnding, FatalErrorDropsUnsentData)
{
    Session s(31);
    s.conn().write("half-built output");
    s.client_close_write();
    end_with_fatal_error(s.ctx(), "boom\n", 2, kSite);
    for (const auto& [code, payload] : s.close_and_read())
        EXPECT_NE(code, MsgCode::Data) << payload;
}

// Verifies that below protocol 31 a sender sends no MSG_ERROR_EXIT and does not wait, and
// that protocol 29 errors travel as MSG_ERROR_XFER.
TEST(TransferEnding, FatalErrorProtocol29And30)
{
    for (const int protocol : {29, 30}) {
        Session s(protocol);
        const auto start = std::chrono::steady_clock::now();
        end_with_fatal_error(s.ctx(), "oops\n", 2, kSite);
        // No wait for the client: it has not closed, so a wait would take the 60 s default.
        EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
        s.conn().flush();
        const MsgCode tag = protocol >= 30 ? MsgCode::Error : MsgCode::ErrorXfer;
        const Frames expected{{tag, "oops\n"}, {tag, error_line(2)}};
        EXPECT_EQ(s.close_and_read(), expected) << protocol;
    }
}

// Verifies that a receiver sends MSG_ERROR_EXIT whatever the protocol.
TEST(TransferEnding, ReceiverSendsErrorExitAt30)
{
    Session s(30, false);
    s.client_write(protocol::encode_frame(MsgCode::ErrorExit, int32_le(2)));
    end_with_fatal_error(s.ctx(), "", 11, kSite);
    const Frames expected{{MsgCode::Error, error_line(11, daemon::UpstreamRole::Receiver)},
                          {MsgCode::ErrorExit, int32_le(11)}};
    EXPECT_EQ(s.close_and_read(), expected);
}

// Verifies that a push's fatal error names the thread that failed as upstream names its
// processes after the fork: "generator" for the parent, "receiver" for the child.
TEST(TransferEnding, PushErrorLineNamesTheFailingThread)
{
    for (const auto role : {daemon::UpstreamRole::Generator, daemon::UpstreamRole::ForkedReceiver}) {
        Session s(31, false);
        s.set_role(role);
        s.client_write(protocol::encode_frame(MsgCode::ErrorExit, int32_le(11)));
        end_with_fatal_error(s.ctx(), "", 11, kSite);
        const Frames expected{{MsgCode::Error, error_line(11, role)}, {MsgCode::ErrorExit, int32_le(11)}};
        EXPECT_EQ(s.close_and_read(), expected);
    }
    EXPECT_EQ(error_line(11, daemon::UpstreamRole::Generator),
              "rsync error: error in file IO (code 11) at rsync.c(353) [generator=3.5.0]\n");
    EXPECT_EQ(error_line(11, daemon::UpstreamRole::ForkedReceiver),
              "rsync error: error in file IO (code 11) at rsync.c(353) [receiver=3.5.0]\n");
}

// Verifies that socket, stream and timeout codes send no MSG_ERROR_EXIT (the connection is
// considered gone) and do not wait.
TEST(TransferEnding, NoErrorExitForConnectionCodes)
{
    for (const int code : {10, 12, 30}) {
        Session s(31);
        const auto start = std::chrono::steady_clock::now();
        end_with_fatal_error(s.ctx(), "", code, kSite);
        EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
        s.conn().flush();
        for (const auto& [c, payload] : s.close_and_read())
            EXPECT_NE(c, MsgCode::ErrorExit) << code;
    }
}

// Verifies that the wait after MSG_ERROR_EXIT ends when the client closes.
TEST(TransferEnding, WaitEndsAtClientEof)
{
    Session s(31);
    s.client_write(protocol::encode_frame(MsgCode::Data, "late data"));
    s.client_close_write();
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(end_after_completion(s.ctx(), 23), 23);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
    const Frames expected{{MsgCode::ErrorExit, int32_le(23)}};
    EXPECT_EQ(s.close_and_read(), expected);
}

// Verifies that a clean completion sends nothing but flushes what is pending.
TEST(TransferEnding, CompletionWithZeroOnlyFlushes)
{
    Session s(31);
    s.conn().write("stats");
    EXPECT_EQ(end_after_completion(s.ctx(), 0), 0);
    const Frames expected{{MsgCode::Data, "stats"}};
    EXPECT_EQ(s.close_and_read(), expected);
}

// Verifies that below protocol 31 a sender's non-zero completion sends no MSG_ERROR_EXIT.
TEST(TransferEnding, CompletionProtocol30SendsNoErrorExit)
{
    Session s(30);
    EXPECT_EQ(end_after_completion(s.ctx(), 24), 24);
    s.conn().flush();
    EXPECT_TRUE(s.close_and_read().empty());
}

// Verifies that an ending that abandoned its input resets the connection when the client
// sent bytes that were never read.
TEST(TransferEnding, AbandonedInputResetsConnection)
{
    Session s(31);
    s.client_write(protocol::encode_frame(MsgCode::Data, "unread request"));
    EXPECT_EQ(end_after_completion(s.ctx(), 0, false), 0);
    EXPECT_TRUE(s.client_sees_reset());
}

// Verifies that an abandoned input with nothing unread closes normally.
TEST(TransferEnding, AbandonedInputWithoutUnreadBytesCloses)
{
    Session s(31);
    EXPECT_EQ(end_after_completion(s.ctx(), 0, false), 0);
    EXPECT_FALSE(s.client_sees_reset());
}

// Verifies that after the client's MSG_ERROR_EXIT the exit is logged, not sent, and at 31+
// the session reads on until the client closes.
TEST(TransferEnding, PeerExitIsLoggedNotSent)
{
    Session s(31);
    s.client_close_write();
    EXPECT_EQ(end_after_peer_exit(s.ctx(), 23, {"io.c", 1892}), 23);
    EXPECT_TRUE(s.close_and_read().empty());
    ASSERT_EQ(s.log().size(), 1u);
    EXPECT_EQ(s.log()[0], "rsync error: some files/attrs were not transferred (see previous errors) (code 23) at "
                          "io.c(1892) [sender=3.5.0]");
}

// Verifies that a sender's fatal error logs its totals between the message and the error
// line, as upstream's log_exit does for a sender.
TEST(TransferEnding, FatalErrorLogsSenderTotals)
{
    Session s(30);
    s.set_sender_totals([] { return std::string("sent 1 bytes  received 2 bytes  total size 3"); });
    EXPECT_EQ(end_with_fatal_error(s.ctx(), "oops\n", 2, kSite), 2);
    const std::vector<std::string> expected{"oops", "sent 1 bytes  received 2 bytes  total size 3",
                                            daemon::without_newline(error_line(2))};
    EXPECT_EQ(s.log(), expected);
}

// Verifies that an empty MSG_ERROR_EXIT (code 0) from the client still ends with the
// session's own partial-transfer code, with no error line (upstream exit_cleanup(0)).
TEST(TransferEnding, PeerExitZeroKeepsPartialCode)
{
    Session s(30);
    s.report().emit(transfer::LogCode::ErrorXfer, "link_stat failed\n");
    s.client_close_write();
    EXPECT_EQ(end_after_peer_exit(s.ctx(), 0, {"io.c", 1892}), 23);
    EXPECT_EQ(s.log(), std::vector<std::string>{"link_stat failed"});
}

// Verifies that a sender which stopped reading (empty file list) and ends with 23 at
// protocol 31 never delivers MSG_ERROR_EXIT and resets the connection over the client's
// unread bytes, as upstream's does.
TEST(TransferEnding, AbandonedInputWithErrorSendsNoErrorExit)
{
    Session s(31);
    s.conn().write("list");
    s.conn().flush();
    s.client_write(protocol::encode_frame(MsgCode::Data, "unread request"));
    EXPECT_EQ(end_after_completion(s.ctx(), 23, false), 23);
    EXPECT_TRUE(s.client_sees_reset());
}

// Verifies upstream's log-file escaping and its 2047-byte message limit.
TEST(TransferEnding, DaemonLogTextEscapesLikeUpstream)
{
    EXPECT_EQ(daemon_log_text("send dir/a\nb\x1b[2J\tc\x85 (2)"), "send dir/a\\#012b\\#033[2J\tc\\#205 (2)");
    EXPECT_EQ(daemon_log_text("fake \\#012 escape"), "fake \\#134#012 escape");
    EXPECT_EQ(daemon_log_text("utf8 \xc3\xa9 stays"), "utf8 \xc3\xa9 stays");
    EXPECT_EQ(daemon_log_text(std::string_view("cut\0here", 8)), "cut");
    EXPECT_EQ(daemon_log_text(std::string(3000, 'x')), std::string(2047, 'x'));
    EXPECT_EQ(daemon_log_text(std::string(2046, 'x') + "\x01"), std::string(2046, 'x') + "\\#001");
}

} // namespace
} // namespace ocr::worker
