// SPDX-License-Identifier: MIT
// Small string helpers shared by the config parser, the daemon protocol and logging.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocr {

/// @brief Removes leading and trailing ASCII white space (space, tab, CR, LF, FF, VT).
[[nodiscard]] std::string_view trim(std::string_view s) noexcept;

/// @brief ASCII lower-casing (locale independent).
[[nodiscard]] std::string to_lower(std::string_view s);

/// @brief ASCII case-insensitive equality.
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;

/// @brief Splits on runs of ASCII white space; empty fields are dropped.
[[nodiscard]] std::vector<std::string> split_ws(std::string_view s);

/// @brief Splits on @p sep, keeping empty fields.
[[nodiscard]] std::vector<std::string> split(std::string_view s, char sep);

/// @brief Parses a whole decimal integer (optional sign); nullopt on any junk or overflow.
[[nodiscard]] std::optional<std::int64_t> parse_int(std::string_view s) noexcept;

/// @brief Mimics C atoi(): leading white space, optional sign, digits, stops at junk;
///        0 when there are no digits. Saturates instead of overflowing.
[[nodiscard]] long long atoi_like(std::string_view s) noexcept;

/// @brief Makes bytes printable for a log line: control bytes become \#ooo (octal).
[[nodiscard]] std::string printable(std::string_view s);

} // namespace ocr
