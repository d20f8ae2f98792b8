// SPDX-License-Identifier: MIT
// Multiplexed socket I/O. Facts from upstream io.c: frames and message dispatch
// (read_a_msg, including its three error texts), reading while writing (perform_io),
// keep-alives as empty MSG_DATA (maybe_send_keepalive), the I/O timeout (check_timeout),
// --bwlimit (sleep_for_bwlimit), and which bytes stats.total_read/written count
// (write_buf and read_buf bypass the counted buffers until buffering starts).
#include "transfer/connection.hpp"

#include "common/tcp_ack.hpp"
#include "protocol/protocol_error.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

namespace ocr::transfer {
namespace {

using protocol::ExitCode;
using protocol::ProtocolError;
using Clock = std::chrono::steady_clock;

// Pending output is pushed to the socket once this much has accumulated.
constexpr std::size_t kFlushThreshold = 256 * 1024;
// Data frames we write carry at most this much (any size is valid on the wire).
constexpr std::size_t kDataFrame = 64 * 1024;
// Input read ahead while we wait to write; past this we stop reading (the peer then
// waits for us rather than us growing without bound).
constexpr std::size_t kMaxBufferedInput = 64u << 20;
constexpr std::size_t kReadChunk = 256 * 1024;

// The tags upstream's read_a_msg knows; any other is "unexpected tag".
bool known_tag(protocol::MsgCode code) noexcept
{
    using protocol::MsgCode;
    switch (code) {
    case MsgCode::ErrorXfer:
    case MsgCode::Info:
    case MsgCode::Error:
    case MsgCode::Warning:
    case MsgCode::ErrorSocket:
    case MsgCode::Log:
    case MsgCode::Client:
    case MsgCode::ErrorUtf8:
    case MsgCode::Redo:
    case MsgCode::Stats:
    case MsgCode::IoError:
    case MsgCode::IoTimeout:
    case MsgCode::Noop:
    case MsgCode::ErrorExit:
    case MsgCode::Success:
    case MsgCode::Deleted:
    case MsgCode::NoSend:
        return true;
    case MsgCode::Data:
        break;
    }
    return false;
}

// The tags whose payload upstream reads into its message buffer (so that a long one
// overflows it); every other tag has a fixed size or is refused from the network, so a
// long one is an invalid message.
bool text_tag(protocol::MsgCode code) noexcept
{
    using protocol::MsgCode;
    return code == MsgCode::Info || code == MsgCode::Error || code == MsgCode::ErrorXfer ||
           code == MsgCode::Warning || code == MsgCode::Deleted;
}

} // namespace

Connection::Connection(Options options) : opt_(std::move(options))
{
    raw_ = std::move(opt_.initial_input);
    opt_.initial_input.clear();
    last_in_ = last_out_ = bw_start_ = Clock::now();
}

void Connection::reset_on_close_if_unread()
{
    bool unread = raw_pos_ < raw_.size();
    if (!unread) {
        // The client's answer to our last frames is normally on its way: upstream's 100 ms
        // sleep before exiting lets it arrive on an idle machine, and a loaded one should
        // not change what the client sees, so give it a little longer.
        pollfd p{opt_.fd, POLLIN, 0};
        if (::poll(&p, 1, 400) > 0 && (p.revents & POLLIN)) {
            char byte;
            unread = ::recv(opt_.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0; // not just its FIN
        }
    }
    if (unread) {
        const linger l{1, 0};
        ::setsockopt(opt_.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
}

void Connection::start_mux_out()
{
    commit_output();
    // What is still unsent went out before buffering in upstream; restart the counts.
    uncounted_out_ = out_.size() - out_pos_;
    total_written_ = 0;
    total_read_ = raw_.size() - raw_pos_;
    mux_out_ = true;
}

void Connection::start_mux_in()
{
    mux_in_ = true;
    frame_left_ = 0;
}

void Connection::stop_mux_in()
{
    mux_in_ = false;
}

void Connection::close_data_frame() noexcept
{
    if (open_frame_ == kNoFrame)
        return;
    const std::size_t len = out_.size() - open_frame_ - 4;
    if (len == 0) {
        out_.resize(open_frame_);
    } else {
        const std::string head = protocol::encode_frame_header(protocol::MsgCode::Data, len);
        std::memcpy(out_.data() + open_frame_, head.data(), 4);
    }
    open_frame_ = kNoFrame;
}

void Connection::commit_output() noexcept
{
    close_data_frame();
    committed_ = out_.size();
}

void Connection::discard_unsent_data() noexcept
{
    open_frame_ = kNoFrame;
    out_.resize(committed_);
}

void Connection::compact_output()
{
    // Everything committed has gone out: drop it (usually all of out_).
    if (out_pos_ != committed_ || out_pos_ == 0)
        return;
    if (committed_ == out_.size()) {
        out_.clear();
    } else {
        out_.erase(0, committed_);
        if (open_frame_ != kNoFrame)
            open_frame_ -= committed_;
    }
    out_pos_ = 0;
    committed_ = 0;
}

void Connection::append_data(const char* data, std::size_t len)
{
    if (!mux_out_) {
        out_.append(data, len);
        return;
    }
    // Frame in place: reserve the header, append the payload, patch the header when the
    // frame is full or something else must follow it.
    while (len > 0) {
        if (open_frame_ == kNoFrame) {
            open_frame_ = out_.size();
            out_.append(4, '\0');
        }
        const std::size_t used = out_.size() - open_frame_ - 4;
        const std::size_t n = std::min(len, kDataFrame - used);
        out_.append(data, n);
        data += n;
        len -= n;
        if (used + n == kDataFrame)
            close_data_frame();
    }
}

void Connection::write_all(std::span<const std::byte> data)
{
    append_data(reinterpret_cast<const char*>(data.data()), data.size());
    data_written_ += data.size();
    if (out_.size() - out_pos_ >= kFlushThreshold)
        flush();
}

void Connection::send_message(protocol::MsgCode code, std::string_view payload)
{
    if (messages_ahead_) {
        send_message_ahead(code, payload);
        return;
    }
    close_data_frame();
    out_ += protocol::encode_frame_header(code, payload.size());
    out_.append(payload);
    committed_ = out_.size();
}

void Connection::send_message_ahead(protocol::MsgCode code, std::string_view payload)
{
    if (!mux_out_) {
        // Unframed output has no room for messages: keep the order (as before).
        close_data_frame();
        out_ += protocol::encode_frame_header(code, payload.size());
        out_.append(payload);
        committed_ = out_.size();
        return;
    }
    std::string frame = protocol::encode_frame_header(code, payload.size());
    frame.append(payload);
    out_.insert(committed_, frame);
    if (open_frame_ != kNoFrame)
        open_frame_ += frame.size();
    committed_ += frame.size();
}

void Connection::flush()
{
    commit_output();
    pump(false);
}

void Connection::keepalive()
{
    if (opt_.io_timeout.count() <= 0 || !mux_out_)
        return;
    const auto lull = std::chrono::seconds((opt_.io_timeout.count() + 1) / 2);
    if (Clock::now() - last_out_ < lull)
        return;
    if (out_pos_ == out_.size()) {
        out_ += protocol::encode_frame_header(protocol::MsgCode::Data, 0);
        committed_ = out_.size();
    }
    pump(false);
}

Clock::time_point Connection::last_activity(bool need_input) const
{
    // Split, each thread sees only its own direction's clock (the other one is not ours
    // to read); together, any movement counts.
    if (split_)
        return need_input ? last_in_ : last_out_;
    return std::max(last_in_, last_out_);
}

int Connection::wait_ms(bool need_input) const
{
    if (opt_.io_timeout.count() <= 0)
        return -1;
    const auto now = Clock::now();
    const auto lull = std::chrono::seconds((opt_.io_timeout.count() + 1) / 2);
    const auto deadline = last_activity(need_input) + opt_.io_timeout;
    auto soonest = deadline;
    if (!(split_ && need_input))
        soonest = std::min(soonest, last_out_ + lull);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(soonest - now).count();
    return static_cast<int>(std::clamp<long long>(ms, 0, 60000));
}

void Connection::check_timeout(bool need_input)
{
    if (opt_.io_timeout.count() <= 0)
        return;
    const auto idle = Clock::now() - last_activity(need_input);
    if (idle >= opt_.io_timeout)
        throw ProtocolError(ExitCode::Timeout,
                            std::string("[") + opt_.role + "] io timeout after " +
                                std::to_string(std::chrono::duration_cast<std::chrono::seconds>(idle).count()) +
                                " seconds -- exiting",
                            protocol::UpstreamSite{"io.c", 248}); // io.c:check_timeout
}

void Connection::throttle(std::size_t bytes)
{
    if (opt_.bwlimit_kib <= 0)
        return;
    bw_bytes_ += bytes;
    const double should_take = static_cast<double>(bw_bytes_) / (opt_.bwlimit_kib * 1024.0);
    const double took = std::chrono::duration<double>(Clock::now() - bw_start_).count();
    if (should_take > took)
        std::this_thread::sleep_for(std::chrono::duration<double>(should_take - took));
    // Keep the accounting window short so an idle period does not earn a burst.
    if (took > 10.0) {
        bw_start_ = Clock::now();
        bw_bytes_ = 0;
    }
}

bool Connection::fill_raw(int timeout_ms)
{
    (void)timeout_ms;
    if (raw_pos_ > 0 && raw_pos_ >= raw_.size() / 2) {
        raw_.erase(0, raw_pos_);
        raw_pos_ = 0;
    }
    const std::size_t old = raw_.size();
    raw_.resize(old + kReadChunk);
    ssize_t n;
    do {
        n = ::read(opt_.fd, raw_.data() + old, kReadChunk);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        raw_.resize(old);
        if (errno == EAGAIN)
            return true;
        throw ProtocolError(ExitCode::SocketIo, std::string("rsync: [") + opt_.role + "] read error: " +
                                                    std::strerror(errno) + " (" + std::to_string(errno) + ")",
                            protocol::UpstreamSite{"io.c", 907}); // io.c:perform_io
    }
    raw_.resize(old + static_cast<std::size_t>(n));
    if (n == 0)
        return false;
    total_read_ += static_cast<std::uint64_t>(n);
    last_in_ = Clock::now();
    return true;
}

void Connection::pump(bool need_input)
{
    // Split, the reading thread never touches the output and the writing thread never
    // touches the input.
    const bool may_write = !(split_ && need_input);
    const std::size_t raw_before = !split_ || need_input ? raw_.size() - raw_pos_ : 0;
    for (;;) {
        const bool want_write = may_write && out_pos_ < committed_;
        if (!want_write && (!need_input || raw_.size() - raw_pos_ > raw_before))
            break;
        short events = 0;
        if (want_write)
            events |= POLLOUT;
        if (need_input || (!split_ && raw_.size() - raw_pos_ < kMaxBufferedInput))
            events |= POLLIN;
        pollfd p{opt_.fd, events, 0};
        const bool idle_work = need_input && !split_ && idle_work_;
        // Only while setting up: later, when the client's requests arrive decides where
        // our multiplexed frames end, and upstream's byte counts (its log's "sent N
        // bytes") come from a daemon that lets the kernel delay its ACKs.
        if (need_input && !idle_work && may_ack_ && !mux_out_)
            may_ack_ = acknowledge_received(opt_.fd);
        const int n = ::poll(&p, 1, idle_work ? 0 : wait_ms(need_input));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw ProtocolError(ExitCode::SocketIo, std::string("poll: ") + std::strerror(errno));
        }
        if (n == 0) {
            if (idle_work) {
                // The work writes (more file lists); stage it so that this loop sends it.
                if (!idle_work_())
                    idle_work_ = nullptr;
                commit_output();
                continue;
            }
            check_timeout(need_input);
            // Waiting for the peer: tell it we are alive (only once multiplexing; a split
            // reader leaves that to the writing thread).
            if (need_input && !want_write && !split_ && mux_out_ && opt_.io_timeout.count() > 0) {
                const auto lull = std::chrono::seconds((opt_.io_timeout.count() + 1) / 2);
                if (Clock::now() - last_out_ >= lull && committed_ == out_.size()) {
                    out_ += protocol::encode_frame_header(protocol::MsgCode::Data, 0);
                    committed_ = out_.size();
                }
            }
            continue;
        }
        if ((p.revents & (POLLIN | POLLHUP | POLLERR)) && (events & POLLIN)) {
            if (!fill_raw(0)) {
                if (need_input)
                    throw ProtocolError(ExitCode::StreamIo,
                                        "rsync: connection unexpectedly closed (" + std::to_string(total_read_) +
                                            " bytes received so far) [" + opt_.role + "]",
                                        protocol::UpstreamSite{"io.c", 285}); // io.c:whine_about_eof
                if (!want_write)
                    break;
                // End of input while we still have output: try to deliver it anyway.
            }
        }
        if ((p.revents & POLLOUT) && out_pos_ < committed_) {
            std::size_t len = committed_ - out_pos_;
            if (opt_.bwlimit_kib > 0)
                len = std::min<std::size_t>(len, std::max<std::size_t>(1024, static_cast<std::size_t>(opt_.bwlimit_kib) * 128));
            ssize_t w;
            do {
                w = ::send(opt_.fd, out_.data() + out_pos_, len, MSG_NOSIGNAL | MSG_DONTWAIT);
            } while (w < 0 && errno == EINTR);
            if (w < 0) {
                if (errno == EAGAIN)
                    continue;
                throw ProtocolError(ExitCode::SocketIo, std::string("rsync: [") + opt_.role + "] write error: " +
                                                            std::strerror(errno) + " (" + std::to_string(errno) + ")",
                                    protocol::UpstreamSite{"io.c", 949}); // io.c:perform_io
            }
            const auto sent = static_cast<std::size_t>(w);
            out_pos_ += sent;
            const std::size_t uncounted = std::min(uncounted_out_, sent);
            uncounted_out_ -= uncounted;
            total_written_ += sent - uncounted;
            last_out_ = Clock::now();
            compact_output();
            throttle(sent);
        }
    }
}

std::string Connection::who_tag() const
{
    return std::string(opt_.role) + (inc_recurse_ ? "/inc" : "");
}

void Connection::bad_message(const char* what, int upstream_line, int tag, std::size_t length) const
{
    throw ProtocolError(ExitCode::StreamIo,
                        std::string(what) + " " + std::to_string(tag) + ":" + std::to_string(length) + " [" +
                            who_tag() + "]",
                        protocol::UpstreamSite{"io.c", upstream_line});
}

void Connection::take_messages_until_data()
{
    while (frame_left_ == 0) {
        while (raw_.size() - raw_pos_ < 4)
            pump(true);
        std::uint8_t head[4];
        std::memcpy(head, raw_.data() + raw_pos_, 4);
        const auto h = protocol::decode_frame_header(head);
        if (!h || (h->code != protocol::MsgCode::Data && !known_tag(h->code)))
            throw ProtocolError(ExitCode::StreamIo,
                                "unexpected tag " + std::to_string(int(head[3]) - int(protocol::kMuxBase)) + " [" +
                                    who_tag() + "]",
                                protocol::UpstreamSite{"io.c", 1896}); // io.c:read_a_msg
        if (h->code == protocol::MsgCode::Data) {
            raw_pos_ += 4;
            frame_left_ = h->length; // an empty frame is a keep-alive: read the next header
            continue;
        }
        const int tag = static_cast<int>(h->code);
        // Upstream io.c:read_a_msg: "multiplexing overflow" (exit at line 1838) for a text
        // longer than its buffer, "invalid multi-message" (line 1799) for a message of a
        // size its tag does not allow.
        if (h->length > kMaxMessage && text_tag(h->code))
            bad_message("multiplexing overflow", 1838, tag, h->length);
        if (h->length > kMaxMessage || !handler_)
            bad_message("invalid multi-message", 1799, tag, h->length);
        while (raw_.size() - raw_pos_ < 4 + h->length)
            pump(true);
        const std::string payload = raw_.substr(raw_pos_ + 4, h->length);
        raw_pos_ += 4 + h->length;
        handler_->on_message(h->code, payload);
    }
}

void Connection::read_exact(std::span<std::byte> out)
{
    std::size_t done = 0;
    while (done < out.size()) {
        if (mux_in_ && frame_left_ == 0) {
            // Our peer may be waiting for what we have buffered before it sends more
            // (when split, the writing thread flushes its own output).
            if (!split_) {
                commit_output();
                if (out_pos_ < committed_)
                    pump(false);
            }
            take_messages_until_data();
        }
        std::size_t avail = raw_.size() - raw_pos_;
        if (mux_in_)
            avail = std::min(avail, frame_left_);
        if (avail == 0) {
            if (!split_) {
                commit_output();
                if (out_pos_ < committed_) {
                    pump(false);
                    // Flushing reads whatever input arrives meanwhile; waiting for more
                    // than that could wait for a peer that waits for us.
                    continue;
                }
            }
            pump(true);
            continue;
        }
        const std::size_t take = std::min(avail, out.size() - done);
        std::memcpy(out.data() + done, raw_.data() + raw_pos_, take);
        raw_pos_ += take;
        done += take;
        data_read_ += take;
        if (mux_in_)
            frame_left_ -= take;
    }
}

} // namespace ocr::transfer
