// SPDX-License-Identifier: MIT
// Fuzz target: --chmod / "incoming chmod" / "outgoing chmod" specs, checking that parsing is
// all-or-nothing and that applying rules never touches the file-type bits.
#include "transfer/chmod_rules.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <sys/stat.h>

namespace {

[[noreturn]] void fail()
{
    __builtin_trap();
}

constexpr std::uint32_t kModes[] = {S_IFREG | 0644, S_IFDIR | 0755, S_IFREG | 07777, S_IFDIR | 0,
                                    S_IFIFO | 0600, S_IFREG | 0111, S_IFDIR | 03070, S_IFCHR | 04001};

} // namespace

// Input: one byte for the umask (its low 9 bits with the next byte's low bit), then the spec.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 2)
        return 0;
    const std::uint32_t umask = (static_cast<std::uint32_t>(data[0]) | (data[1] & 1u) << 8) & 0777;
    const std::string_view spec(reinterpret_cast<const char*>(data + 2), size - 2);

    const auto rules = ocr::transfer::ChmodRules::parse(spec, umask);

    // Appending to an existing list must be all or nothing and agree with parse().
    auto list = ocr::transfer::ChmodRules::parse("u+w", 022);
    if (!list)
        fail();
    const bool appended = list->append(spec, umask);
    if (appended != rules.has_value())
        fail();
    if (!rules) {
        if (list->rules().size() != 1)
            fail();
        return 0;
    }

    // One rule per comma-separated item.
    std::size_t items = 1;
    for (char c : spec)
        items += c == ',';
    if (rules->rules().size() != items || list->rules().size() != items + 1)
        fail();

    // A spec twice over is valid too and holds twice the rules.
    const std::string twice = std::string(spec) + "," + std::string(spec);
    const auto doubled = ocr::transfer::ChmodRules::parse(twice, umask);
    if (!doubled || doubled->rules().size() != 2 * items)
        fail();

    for (std::uint32_t mode : kModes) {
        const std::uint32_t out = rules->tweak_mode(mode);
        if ((out & ~07777u) != (mode & ~07777u))
            fail();
        if (rules->apply_to_entry(mode) != out)
            fail();
    }
    if (rules->apply_to_entry(S_IFLNK | 0777) != (S_IFLNK | 0777u) || rules->apply_to_entry(0) != 0)
        fail();
    return 0;
}
