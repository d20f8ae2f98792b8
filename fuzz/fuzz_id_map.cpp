// SPDX-License-Identifier: MIT
// Fuzz target: a client's --usermap/--groupmap value (peer text a receiving daemon parses)
// and the id choice made with the parsed map.
#include "transfer/id_map.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using ocr::transfer::IdKind;
using ocr::transfer::IdMap;
using ocr::transfer::IdMapRule;

[[noreturn]] void fail()
{
    __builtin_trap();
}

// A few local names; anything else is unknown.
std::optional<std::uint32_t> fake_lookup(const std::string& name)
{
    if (name.empty())
        fail(); // the parser and the resolver never ask for an empty name
    if (name == "nobody")
        return 65534;
    if (name == "root")
        return 0;
    if (name.size() == 1 && name[0] >= 'a' && name[0] <= 'z')
        return static_cast<std::uint32_t>(name[0]);
    return std::nullopt;
}

} // namespace

// Input layout: byte 0 = flags (bit 0: groupmap), then the map text. The text's bytes
// also serve as sender ids and names to resolve.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1)
        return 0;
    const IdKind kind = (data[0] & 1) != 0 ? IdKind::Group : IdKind::User;
    const std::string_view spec(reinterpret_cast<const char*>(data + 1), size - 1);
    const ocr::transfer::IdMapParse p = IdMap::parse(spec, kind, fake_lookup);

    const std::string_view text = spec.substr(0, spec.find('\0'));
    const std::size_t items = static_cast<std::size_t>(std::count(text.begin(), text.end(), ',')) + 1;
    const std::string_view expected_prefix =
        kind == IdKind::User ? "Unknown --usermap name on receiver: " : "Unknown --groupmap name on receiver: ";
    for (const std::string& m : p.messages)
        if (m.rfind(expected_prefix, 0) != 0)
            fail();
    if (p.failure) {
        const int line = p.failure->upstream_line;
        if (p.failure->message.empty() || (line != 85 && line != 514 && line != 519 && line != 529))
            fail();
        if (p.messages.size() >= items)
            fail();
        return 0;
    }
    if (p.map.rules().size() + p.messages.size() != items)
        fail();
    for (const IdMapRule& r : p.map.rules()) {
        if (r.match == IdMapRule::Match::Range && r.hi == 0)
            fail();
        if (r.match == IdMapRule::Match::Id && !p.map.find(r.lo, "x"))
            fail();
        if (r.match == IdMapRule::Match::Name && !p.map.find(12345, r.pattern))
            fail();
    }
    // Resolve ids and names taken from the input itself.
    for (std::size_t i = 0; i + 4 <= text.size() && i < 64; i += 4) {
        std::uint32_t id = 0;
        for (std::size_t k = 0; k < 4; ++k)
            id = (id << 8) | static_cast<unsigned char>(text[i + k]);
        const std::string_view name = text.substr(i, std::min<std::size_t>(text.size() - i, 16));
        const std::uint32_t got = ocr::transfer::resolve_received_id(&p.map, id, name, fake_lookup);
        const auto mapped = p.map.find(id, name);
        if (mapped && got != *mapped)
            fail();
        if (!mapped && id == 0 && got != 0)
            fail();
    }
    return 0;
}
