// SPDX-License-Identifier: MIT
// Abstract blocking byte streams: the only I/O the protocol layer knows.
#pragma once

#include <cstddef>
#include <span>

namespace ocr::protocol {

/// @brief A blocking source of bytes (a socket, a demultiplexer, a test buffer).
class ByteSource {
public:
    virtual ~ByteSource() = default;
    /// @brief Fills @p out completely.
    /// @throw ProtocolError on end of stream or an I/O error.
    virtual void read_exact(std::span<std::byte> out) = 0;
};

/// @brief A blocking sink of bytes.
class ByteSink {
public:
    virtual ~ByteSink() = default;
    /// @brief Queues or writes all of @p data.
    /// @throw ProtocolError on an I/O error.
    virtual void write_all(std::span<const std::byte> data) = 0;
    /// @brief Pushes out whatever is buffered.
    virtual void flush() = 0;
};

} // namespace ocr::protocol
