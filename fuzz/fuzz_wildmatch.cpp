// SPDX-License-Identifier: MIT
// Fuzz target: wildcard patterns (rsyncd.conf filters, hosts lists, client filter rules) against
// texts, checking that the different entry points agree and that matching stays fast.
#include "common/wildmatch.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

[[noreturn]] void fail()
{
    __builtin_trap();
}

std::string ascii_lower(std::string_view s)
{
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

} // namespace

// Input: one flags byte, then the pattern, a NUL, and the text (which may hold more NULs).
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1)
        return 0;
    const unsigned flags = data[0];
    const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    const std::size_t nul = rest.find('\0');
    const std::string_view pattern = rest.substr(0, nul);
    const std::string_view text = nul == std::string_view::npos ? std::string_view{} :
                                                                  rest.substr(nul + 1);
    const ocr::WildCase wc =
        (flags & 1) != 0 ? ocr::WildCase::Insensitive : ocr::WildCase::Sensitive;

    const bool whole = ocr::wildmatch(pattern, text, wc);
    const ocr::WildPattern compiled(pattern, wc);
    if (compiled.matches(text) != whole)
        fail();

    // Cutting a NUL-free text into pieces must not change the answer.
    if (text.find('\0') == std::string_view::npos) {
        const std::size_t step = ((flags >> 1) & 7) + 1;
        std::vector<std::string_view> pieces;
        for (std::size_t i = 0; i < text.size(); i += step)
            pieces.push_back(text.substr(i, step));
        if ((flags & 0x10) != 0)
            pieces.insert(pieces.begin() + static_cast<std::ptrdiff_t>(pieces.size() / 2), "");
        if (pieces.empty())
            pieces.emplace_back();
        if (compiled.matches_pieces(pieces) != whole)
            fail();
    }

    // Case-insensitive matching is sensitive matching of both sides folded, except that class
    // names are looked up unfolded (so "[:ALPHA:]" stays malformed); skip patterns with ':'.
    if (wc == ocr::WildCase::Insensitive && pattern.find(':') == std::string_view::npos) {
        if (ocr::wildmatch(ascii_lower(pattern), ascii_lower(text)) != whole)
            fail();
    }
    return 0;
}
