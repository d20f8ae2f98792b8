// SPDX-License-Identifier: MIT
// A blocking socket as the ByteSource/ByteSink the protocol and transfer layers use,
// with an I/O timeout (upstream's --timeout / module "timeout").
#pragma once

#include "protocol/byte_stream.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace ocr::worker {

/// @brief Buffered blocking I/O on one socket descriptor (not owned).
///
/// A read or write that makes no progress for the timeout throws ProtocolError(Timeout);
/// end of stream and socket errors throw ProtocolError(SocketIo).
class FdStream final : public protocol::ByteSource, public protocol::ByteSink {
public:
    explicit FdStream(int fd, std::chrono::seconds timeout = std::chrono::seconds(0));
    /// @brief The input starts with @p bytes (read from the socket by the front-end).
    FdStream(int fd, std::string initial_input) : fd_(fd), timeout_(0), in_(std::move(initial_input)) {}

    void read_exact(std::span<std::byte> out) override;
    void write_all(std::span<const std::byte> data) override;
    void flush() override;

    void write(std::string_view bytes)
    {
        write_all(std::span<const std::byte>(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()));
    }
    /// @brief Reads and discards until end of stream or @p limit passes (for clean closes).
    void drain(std::chrono::milliseconds limit);
    /// @brief After a refusal: reads (discarding) until the client answers MSG_ERROR_EXIT,
    ///        the stream ends or @p limit passes. @p raw_vstrings name lists come first.
    /// @return true when the answer came.
    bool await_exit_answer(int raw_vstrings, std::chrono::milliseconds limit);

    void set_timeout(std::chrono::seconds timeout) { timeout_ = timeout; }
    [[nodiscard]] std::uint64_t bytes_read() const noexcept { return read_total_; }
    [[nodiscard]] std::uint64_t bytes_written() const noexcept { return written_total_; }

private:
    bool wait(short events, int timeout_ms);
    void fill();

    int fd_;
    std::chrono::seconds timeout_;
    std::string in_;
    std::size_t in_pos_ = 0;
    std::string out_;
    std::uint64_t read_total_ = 0;
    std::uint64_t written_total_ = 0;
};

} // namespace ocr::worker
