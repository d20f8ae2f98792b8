// SPDX-License-Identifier: MIT
// In-memory ByteSource/ByteSink, for tests, fuzz targets and building messages.
#pragma once

#include "protocol/byte_stream.hpp"
#include "protocol/protocol_error.hpp"

#include <cstring>
#include <string>
#include <string_view>

namespace ocr::protocol {

/// @brief Reads from a fixed byte string; running past its end is a StreamIo error.
class MemorySource final : public ByteSource {
public:
    explicit MemorySource(std::string_view data) : data_(data) {}
    void read_exact(std::span<std::byte> out) override
    {
        if (out.size() > data_.size() - pos_)
            throw ProtocolError(ExitCode::StreamIo, "unexpected end of data");
        std::memcpy(out.data(), data_.data() + pos_, out.size());
        pos_ += out.size();
    }
    [[nodiscard]] std::size_t remaining() const noexcept { return data_.size() - pos_; }

private:
    std::string_view data_;
    std::size_t pos_ = 0;
};

/// @brief Appends everything written to a string.
class MemorySink final : public ByteSink {
public:
    void write_all(std::span<const std::byte> data) override
    {
        bytes_.append(reinterpret_cast<const char*>(data.data()), data.size());
    }
    void flush() override {}
    [[nodiscard]] const std::string& bytes() const noexcept { return bytes_; }

private:
    std::string bytes_;
};

} // namespace ocr::protocol
