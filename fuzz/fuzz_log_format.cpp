// SPDX-License-Identifier: MIT
// Fuzz target: transfer-log format strings ("log format", --out-format), checking the renderer's
// limits and that it expands exactly the escapes log_format_has() reports.
#include "transfer/itemize.hpp"
#include "transfer/log_format.hpp"

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

// Two op values of the same length: whether the output changes with them shows whether %o
// was expanded.
constexpr std::string_view kOpMarker = "\x02\x03opA\x03";
constexpr std::string_view kOtherOp = "\x02\x03opB\x03";

constexpr std::uint32_t kModes[] = {S_IFREG | 0644, S_IFDIR | 02755, S_IFLNK | 0777, S_IFIFO | 0600,
                                    S_IFCHR | 0660, S_IFSOCK | 0755, S_IFREG | 04711, S_IFBLK | 01777};

} // namespace

// Input: one byte choosing the context (mode, daemon or local, sender or receiver, which
// optional values exist), one byte of iflags, then the format text.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 2)
        return 0;
    const unsigned sel = data[0];
    const std::string_view format(reinterpret_cast<const char*>(data + 2), size - 2);

    ocr::transfer::LogSession s;
    const bool daemon = (sel & 0x08) != 0;
    if (daemon) {
        s.remote_addr = "192.0.2.7";
        s.remote_host = "client.example";
        s.module_path = "/srv/module";
        s.auth_user = (sel & 0x40) ? "alice" : "";
    }
    s.module_name = daemon ? "module" : "";
    s.pid = 4242;
    s.now = static_cast<std::time_t>(sel) * 86400 * 400;
    s.am_sender = (sel & 0x10) != 0;
    s.local_server = (sel & 0x20) != 0;
    s.preserve_mtimes = (sel & 0x80) != 0;
    s.always_checksum = (sel & 0x40) != 0;
    s.checksum_length = 16;

    ocr::transfer::LogItem item;
    item.op = std::string(kOpMarker);
    item.name = "dir/sub/file name";
    if (s.am_sender)
        item.sender_dir = "top/./x//";
    if (daemon)
        item.daemon_dir = "/sub";
    item.mode = kModes[sel & 7];
    item.length = static_cast<std::int64_t>(sel) * 123456789;
    item.mtime = -static_cast<std::time_t>(sel) * 1000003;
    if (sel & 0x40)
        item.uid = 1000;
    if (sel & 0x80)
        item.gid = 100;
    item.symlink_target = "target";
    if (data[1] & 0x80)
        item.hlink = "other";
    item.iflags = static_cast<std::uint32_t>(data[1]) << 9;  // ITEM_XNAME_FOLLOWS and up
    item.iflags |= static_cast<std::uint32_t>(data[1]) & 0x7f; // the report bits
    item.bytes_written = 1 << 20;
    item.bytes_read = -5;
    item.xfer_sum_hex = "00112233445566778899aabbccddeeff";
    if (sel & 0x04)
        item.file_sum_hex = "ffeeddccbbaa99887766554433221100";

    const ocr::transfer::LogLine line = ocr::transfer::render_log_format(format, s, item);
    if (!line.ok()) {
        if (!line.text.empty())
            fail();
        return 0;
    }
    if (line.text.size() + 1 >= ocr::transfer::kLogLineBufferSize)
        fail();
    // What goes to the log file holds no control or C1 bytes (tab aside).
    for (const char ch : ocr::transfer::escape_log_file_text(line.text)) {
        const auto b = static_cast<unsigned char>(ch);
        if ((b < 0x20 && b != '\t') || (b >= 0x80 && b <= 0x9f))
            fail();
    }
    // The renderer and log_format_has() must scan escapes identically: %o is expanded
    // exactly when log_format_has() finds it. Rendering again with another op value shows
    // whether %o was expanded; comparing outputs rather than searching for a marker keeps
    // literal text next to an empty expansion from faking one. A width can hide the value
    // (nothing at all beyond INT_MAX), and so can the cut at 4095 bytes, so the converse is
    // only checked for formats without digits whose output stayed short.
    item.op = std::string(kOtherOp);
    const ocr::transfer::LogLine other = ocr::transfer::render_log_format(format, s, item);
    const bool has_o = ocr::transfer::log_format_has(format, 'o');
    const bool shown = !other.ok() || other.text != line.text;
    if (shown && !has_o)
        fail();
    const std::string_view c_format = format.substr(0, format.find('\0'));
    const bool short_output = line.text.size() + kOpMarker.size() + 1 < ocr::transfer::kLogLineBufferSize;
    if (has_o && !shown && short_output && c_format.find_first_of("0123456789") == std::string_view::npos)
        fail();
    return 0;
}
