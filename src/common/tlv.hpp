// SPDX-License-Identifier: MIT
// A tiny bounded tag-length-value codec for messages between ocrsyncd's own processes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocr {

/// @brief Builds a message as a sequence of (tag, bytes) fields.
///
/// The layout is [u16 tag][u32 length][bytes] per field, little-endian. Messages cross
/// a privilege boundary (front-end -> worker), so the reader checks every length.
class TlvWriter {
public:
    TlvWriter& add(std::uint16_t tag, std::string_view bytes);
    TlvWriter& add_int(std::uint16_t tag, std::int64_t value);
    TlvWriter& add_bool(std::uint16_t tag, bool value) { return add_int(tag, value ? 1 : 0); }
    /// @brief Adds each string as its own field with the same tag (order kept).
    TlvWriter& add_list(std::uint16_t tag, const std::vector<std::string>& items);
    [[nodiscard]] const std::string& bytes() const noexcept { return out_; }

private:
    std::string out_;
};

/// @brief Parses a TLV message; invalid framing makes parse() return nullopt.
class TlvReader {
public:
    struct Field {
        std::uint16_t tag;
        std::string_view bytes;
    };

    /// @brief Splits @p message into fields; nullopt when a length runs past the end
    ///        or there are more than @p max_fields fields.
    [[nodiscard]] static std::optional<TlvReader> parse(std::string_view message,
                                                        std::size_t max_fields = 100000);

    /// @brief First field with @p tag, if any.
    [[nodiscard]] std::optional<std::string_view> get(std::uint16_t tag) const;
    /// @brief First field with @p tag as an integer (nullopt if absent or not 8 bytes).
    [[nodiscard]] std::optional<std::int64_t> get_int(std::uint16_t tag) const;
    /// @brief All fields with @p tag, in order.
    [[nodiscard]] std::vector<std::string> get_list(std::uint16_t tag) const;

private:
    std::vector<Field> fields_;
};

} // namespace ocr
