// SPDX-License-Identifier: MIT
// Test support: the client's reading end of a daemon session, which takes the MSG_DATA
// stream apart from the messages the daemon multiplexes into it.
#pragma once

#include "protocol/byte_stream.hpp"
#include "protocol/exit_code.hpp"
#include "protocol/mux.hpp"
#include "protocol/protocol_error.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace ocr::test {

/// @brief Reads the daemon's multiplexed output from a blocking socket: read_exact()
///        returns the data stream, every other frame is kept in @c messages.
class DemuxReader final : public protocol::ByteSource {
public:
    explicit DemuxReader(int fd) : fd_(fd) {}

    void read_exact(std::span<std::byte> out) override
    {
        std::size_t done = 0;
        while (done < out.size()) {
            if (frame_left_ == 0) {
                next_frame_header();
                continue;
            }
            const std::size_t take = std::min(frame_left_, out.size() - done);
            raw(out.data() + done, take);
            done += take;
            frame_left_ -= take;
        }
    }

    /// @brief Reads (collecting messages) until the daemon closes.
    /// @return true when it closed at a frame boundary with no data left unread.
    bool drain_to_eof()
    {
        try {
            for (;;) {
                if (frame_left_ > 0)
                    return false;
                next_frame_header();
            }
        } catch (const protocol::ProtocolError&) {
            return frame_left_ == 0 && clean_eof_;
        }
    }

    /// @brief The payloads of the messages with @p code, in arrival order.
    [[nodiscard]] std::vector<std::string> texts(protocol::MsgCode code) const
    {
        std::vector<std::string> out;
        for (const auto& [c, p] : messages)
            if (c == code)
                out.push_back(p);
        return out;
    }

    /// @brief Every text message joined (what the client would print), without the
    ///        binary MSG_IO_ERROR and MSG_NOOP payloads.
    [[nodiscard]] std::string all_text() const
    {
        std::string out;
        for (const auto& [c, p] : messages)
            if (c != protocol::MsgCode::IoError && c != protocol::MsgCode::Noop)
                out += p;
        return out;
    }

    std::vector<std::pair<protocol::MsgCode, std::string>> messages;

private:
    void next_frame_header()
    {
        std::uint8_t h[4];
        clean_eof_ = true; // an end of stream here falls between frames
        raw(reinterpret_cast<std::byte*>(h), 1);
        clean_eof_ = false;
        raw(reinterpret_cast<std::byte*>(h) + 1, 3);
        const auto head = protocol::decode_frame_header(h);
        if (!head)
            throw protocol::ProtocolError(protocol::ExitCode::StreamIo, "client: not a frame");
        if (head->code == protocol::MsgCode::Data) {
            frame_left_ = head->length;
            return;
        }
        std::string payload(head->length, '\0');
        raw(reinterpret_cast<std::byte*>(payload.data()), payload.size());
        messages.emplace_back(head->code, payload);
    }

    void raw(std::byte* p, std::size_t n)
    {
        while (n > 0) {
            const ssize_t r = ::read(fd_, p, n);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                throw protocol::ProtocolError(protocol::ExitCode::StreamIo,
                                              r == 0 ? "client: eof" : "client: read timeout");
            clean_eof_ = false;
            p += r;
            n -= static_cast<std::size_t>(r);
        }
    }

    int fd_;
    std::size_t frame_left_ = 0;
    bool clean_eof_ = false;
};

} // namespace ocr::test
