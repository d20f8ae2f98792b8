// SPDX-License-Identifier: MIT
// The session's socket as the transfer engine sees it: a blocking byte stream in each
// direction, multiplexed once protocol setup is done, with upstream's keep-alives, I/O
// timeout and bandwidth limit.
#pragma once

#include "protocol/byte_stream.hpp"
#include "protocol/mux.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace ocr::transfer {

/// @brief Receives the out-of-band messages found in the multiplexed input.
class MessageHandler {
public:
    virtual ~MessageHandler() = default;
    /// @brief One message (never MSG_DATA); its payload is bounded (see Connection).
    virtual void on_message(protocol::MsgCode code, std::string_view payload) = 0;
};

/// @brief Buffered, optionally multiplexed I/O on one socket (not owned).
///
/// Reading blocks until data arrives; messages met on the way go to the handler.
/// Writing buffers; while waiting to write it keeps reading (into memory, bounded) so
/// that two peers that both write cannot deadlock (upstream io.c:perform_io does the
/// same). Errors are ProtocolError: SocketIo/StreamIo for the stream, Timeout when
/// nothing moved for the I/O timeout.
class Connection final : public protocol::ByteSource, public protocol::ByteSink {
public:
    struct Options {
        int fd = -1;
        std::chrono::seconds io_timeout{0};   ///< 0: none
        int bwlimit_kib = 0;                  ///< 0: unlimited
        const char* role = "sender";          ///< for upstream's "[sender] ..." texts
        /// Bytes already read from the socket by someone else (the front-end): the input
        /// continues with them.
        std::string initial_input;
    };

    explicit Connection(Options options);

    /// @brief From now on, output is framed (after protocol setup, upstream
    ///        io_start_multiplex_out). Sends what was written before, unframed, and
    ///        restarts total_read()/total_written(): upstream counts only the bytes that
    ///        pass through its buffered I/O, which starts here (its setup bytes go out and
    ///        come in unbuffered and uncounted). Input already read ahead but not yet
    ///        consumed counts as read after this point.
    void start_mux_out();
    /// @brief From now on, input is framed (protocol >= 30 clients).
    void start_mux_in();
    /// @brief Stops demultiplexing input (pre-31 --files-from arrives unframed).
    void stop_mux_in();
    void set_handler(MessageHandler* handler) noexcept { handler_ = handler; }
    /// @brief Work to do while a read waits for the peer (upstream's sender keeps sending
    ///        file lists then: io.c:perform_io with extra_flist_sending_enabled). Called,
    ///        each time no input is ready, until it returns false; empty: none.
    void set_idle_work(std::function<bool()> work) { idle_work_ = std::move(work); }
    /// @brief Whether incremental recursion is on: upstream's message errors then name
    ///        the role as "[sender/inc]".
    void set_inc_recurse(bool on) noexcept { inc_recurse_ = on; }
    /// @brief From now on one thread reads and another writes (a push: upstream's receiver
    ///        process reads the socket while its generator process writes it). Reading then
    ///        never flushes output and writing never reads ahead; each side times out on its
    ///        own direction only. Call before the second thread starts.
    void split_directions() noexcept { split_ = true; }
    /// @brief Renames the side in messages (upstream who_am_i() changes when the receiving
    ///        server forks). Call before other threads use the connection.
    void set_role(const char* role) noexcept { opt_.role = role; }
    /// @brief Changes the I/O timeout (0: none), e.g. for the wait at the end of a session.
    void set_io_timeout(std::chrono::seconds timeout) noexcept { opt_.io_timeout = timeout; }
    [[nodiscard]] std::chrono::seconds io_timeout() const noexcept { return opt_.io_timeout; }

    void read_exact(std::span<std::byte> out) override;
    void write_all(std::span<const std::byte> data) override;
    void flush() override;

    void write(std::string_view bytes)
    {
        write_all(std::span<const std::byte>(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()));
    }
    /// @brief Queues a message after any data written before it (order is kept).
    void send_message(protocol::MsgCode code, std::string_view payload);
    /// @brief From now on a message goes out ahead of data written but not yet committed
    ///        for sending, as upstream's send_msg does: perform_io writes its message
    ///        buffer before data that has not started to flush (io.c). The generator of a
    ///        push relies on it for the order of "deleting" lines among the client's own
    ///        output.
    void set_messages_ahead(bool on) noexcept { messages_ahead_ = on; }
    /// @brief Whether messages currently go ahead of uncommitted data.
    [[nodiscard]] bool messages_ahead() const noexcept { return messages_ahead_; }
    /// @brief Queues one message ahead of data written but not yet committed for sending,
    ///        whatever set_messages_ahead() says: what upstream's send_msg does for every
    ///        message (io.c:perform_io writes the message buffer first).
    void send_message_ahead(protocol::MsgCode code, std::string_view payload);

    /// @brief Sends an empty MSG_DATA if nothing was written for half the I/O timeout
    ///        (upstream maybe_send_keepalive); call while busy without I/O.
    void keepalive();
    /// @brief For an exit that abandons its input: when the peer sent bytes we never
    ///        consumed, arrange for close() to reset the connection, as the kernel does
    ///        for a process that exits with unread input (what clients of upstream see).
    void reset_on_close_if_unread();
    /// @brief Drops data written since the output was last committed for sending (by a
    ///        message, a flush or a read that waits). Upstream's exit after a fatal error
    ///        never flushes its data buffer, only its messages, so a client sees the error
    ///        without the half-built output before it.
    void discard_unsent_data() noexcept;

    /// @brief Bytes moved on the socket so far (upstream stats.total_read/written).
    [[nodiscard]] std::uint64_t total_read() const noexcept { return total_read_; }
    [[nodiscard]] std::uint64_t total_written() const noexcept { return total_written_; }
    /// @brief Data bytes handed out by read_exact() / taken by write_all() so far, without
    ///        frame headers or messages: upstream io.c's total_data_read (counted in
    ///        read_buf) and total_data_written (counted when write_buf copies into its
    ///        output buffer, not when it reaches the socket). The transfer log's %b and %c
    ///        are differences of these. In split mode each is touched by one thread only.
    [[nodiscard]] std::uint64_t data_read() const noexcept { return data_read_; }
    [[nodiscard]] std::uint64_t data_written() const noexcept { return data_written_; }

    /// @brief Largest payload of an incoming non-data message (upstream BIGPATHBUFLEN).
    static constexpr std::size_t kMaxMessage = 4096 + 1024 - 1;

private:
    void append_data(const char* data, std::size_t len);
    void close_data_frame() noexcept;
    void commit_output() noexcept;
    void compact_output();
    [[nodiscard]] std::string who_tag() const;
    [[noreturn]] void bad_message(const char* what, int upstream_line, int tag, std::size_t length) const;
    void pump(bool need_input);
    bool fill_raw(int timeout_ms);
    void take_messages_until_data();
    [[nodiscard]] int wait_ms(bool need_input) const;
    void check_timeout(bool need_input);
    [[nodiscard]] std::chrono::steady_clock::time_point last_activity(bool need_input) const;
    void throttle(std::size_t bytes);

    Options opt_;
    MessageHandler* handler_ = nullptr;
    std::function<bool()> idle_work_;
    bool mux_out_ = false;
    bool mux_in_ = false;
    bool split_ = false;
    bool may_ack_ = true; ///< the socket is TCP (false once acknowledge_received says not)
    bool inc_recurse_ = false;

    // Input: raw socket bytes, and how much of the current MSG_DATA frame is left.
    std::string raw_;
    std::size_t raw_pos_ = 0;
    std::size_t frame_left_ = 0;

    // Output, framed in place: out_[out_pos_, committed_) may go to the socket;
    // out_[committed_, end) is data written since (when multiplexing, ending in an open
    // MSG_DATA frame whose header at open_frame_ is patched when the frame is closed).
    std::string out_;
    std::size_t out_pos_ = 0;
    std::size_t committed_ = 0;
    static constexpr std::size_t kNoFrame = static_cast<std::size_t>(-1);
    std::size_t open_frame_ = kNoFrame;
    bool messages_ahead_ = false;
    // Bytes queued before start_mux_out(): sent, but not counted in total_written_.
    std::size_t uncounted_out_ = 0;

    std::chrono::steady_clock::time_point last_in_;
    std::chrono::steady_clock::time_point last_out_;
    std::chrono::steady_clock::time_point bw_start_;
    std::uint64_t bw_bytes_ = 0;
    std::uint64_t total_read_ = 0;
    std::uint64_t total_written_ = 0;
    std::uint64_t data_read_ = 0;
    std::uint64_t data_written_ = 0;
};

} // namespace ocr::transfer
