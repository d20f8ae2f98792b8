// SPDX-License-Identifier: MIT
// Fuzz target: arbitrary secrets-file contents looked up for a fuzzer-chosen user and group.
#include "daemon/secrets.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

[[noreturn]] void fail()
{
    __builtin_trap();
}

} // namespace

// Input layout: byte 0 = flags (bit 0: a group matched; bits 1-2: strict modes, root;
// bits 3-7: user name length), then the user name, then (if bit 0) a NUL-free group name
// ending at the first '\n', then the file contents. The matcher accepts "pw".
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1)
        return 0;
    const std::uint8_t flags = data[0];
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    const std::size_t user_len = std::min<std::size_t>(flags >> 3, rest.size());
    const std::string user(rest.substr(0, user_len));
    rest.remove_prefix(user_len);

    std::optional<std::string> group;
    if ((flags & 0x01) != 0) {
        const std::size_t nl = std::min(rest.find('\n'), rest.size());
        group = std::string(rest.substr(0, nl));
        rest.remove_prefix(std::min(nl + 1, rest.size()));
    }

    const ocr::daemon::SecretsFile file{std::string(rest), 0100600, 0};
    std::size_t asked = 0;
    bool accepted = false;
    const ocr::daemon::PasswordMatcher matcher = [&](std::string_view pw) {
        ++asked;
        // Each candidate is a piece of one 1023-byte chunk after "name:": no line breaks,
        // at most 1022 bytes (for an empty name).
        if (pw.find_first_of("\r\n") != std::string_view::npos || pw.size() > 1022)
            fail();
        accepted = pw == "pw";
        return accepted;
    };
    const auto r = ocr::daemon::check_secret(&file, "/s", (flags & 0x02) != 0,
                                             (flags & 0x04) != 0, user, group, matcher);
    // One password per name at most: the user's and the group's.
    if (asked > 2)
        fail();
    if ((r.status == ocr::daemon::SecretStatus::Ok) != accepted)
        fail();
    if (r.status == ocr::daemon::SecretStatus::PasswordMismatch && asked == 0)
        fail();
    return 0;
}
