// SPDX-License-Identifier: MIT
// Transfer-log lines: the "log format" / --out-format "%" escapes and the end-of-session totals.
#include "transfer/log_format.hpp"

#include "transfer/itemize.hpp"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdio>
#include <sys/stat.h>

namespace ocr::transfer {
namespace {

// Upstream log.c LOG_FMT_SIZE (32) less the 8 bytes it keeps free: the '%' plus at most
// 23 characters of '-' and width digits are collected; a further digit ends the escape
// (and, not being a known letter, leaves it as literal text).
constexpr std::size_t kMaxSpecChars = 23;
// One expanded field lives in a MAXPATHLEN buffer: at most this many bytes survive.
constexpr std::size_t kFieldCap = kLogMaxPathLength - 1;
// %L writes its " -> " prefix first and formats the name behind it.
constexpr std::size_t kLinkPrefixLength = 4;

bool is_digit(char c) noexcept
{
    return c >= '0' && c <= '9';
}

// The printf flags and width between '%' and the escape letter.
struct FieldSpec {
    bool present = false;  // upstream fmt[1] != '\0'
    bool left = false;     // '-'
    bool zero = false;     // leading '0': zero-pads numeric conversions only
    bool overflow = false; // width beyond INT_MAX: printf fails and writes nothing
    std::size_t width = 0;
};

FieldSpec parse_spec(std::string_view spec) noexcept
{
    FieldSpec fs;
    fs.present = !spec.empty();
    std::size_t i = 0;
    if (i < spec.size() && spec[i] == '-') {
        fs.left = true;
        ++i;
    }
    while (i < spec.size() && spec[i] == '0') {
        fs.zero = true;
        ++i;
    }
    std::uint64_t width = 0;
    for (; i < spec.size(); ++i) {
        width = width * 10 + static_cast<std::uint64_t>(spec[i] - '0');
        if (width > static_cast<std::uint64_t>(INT_MAX)) {
            fs.overflow = true;
            return fs;
        }
    }
    fs.width = static_cast<std::size_t>(width);
    return fs;
}

// Appends @p n copies of @p c without growing @p out beyond @p cap.
void append_capped(std::string& out, std::size_t n, char c, std::size_t cap)
{
    if (out.size() < cap)
        out.append(std::min(n, cap - out.size()), c);
}

void append_capped(std::string& out, std::string_view s, std::size_t cap)
{
    if (out.size() < cap)
        out.append(s.substr(0, cap - out.size()));
}

// printf("%<spec>s", value) into a buffer that keeps @p cap bytes.
std::string pad_text(std::string_view value, const FieldSpec& fs, std::size_t cap)
{
    std::string out;
    if (fs.overflow)
        return out;
    const std::size_t pad = fs.width > value.size() ? fs.width - value.size() : 0;
    if (fs.left) {
        append_capped(out, value, cap);
        append_capped(out, pad, ' ', cap);
    } else {
        append_capped(out, pad, ' ', cap);
        append_capped(out, value, cap);
    }
    return out;
}

// printf("%<spec>d") / ("%<spec>u") of an already converted number.
std::string pad_number(std::string_view digits, const FieldSpec& fs, std::size_t cap)
{
    if (fs.overflow || !fs.zero || fs.left)
        return pad_text(digits, fs, cap);
    std::string out;
    std::string_view body = digits;
    if (!body.empty() && body.front() == '-') {
        out += '-';
        body.remove_prefix(1);
    }
    const std::size_t pad = fs.width > digits.size() ? fs.width - digits.size() : 0;
    append_capped(out, pad, '0', cap);
    append_capped(out, body, cap);
    return out;
}

// Upstream util1.c:clean_fname with no flags: squeezes "//", drops "./" elements and a
// trailing '/', keeps ".." and a final "."; an empty result becomes ".".
std::string clean_fname(std::string_view name)
{
    std::string out;
    std::size_t f = 0;
    const bool anchored = !name.empty() && name[0] == '/';
    if (anchored) {
        out += '/';
        f = 1;
    }
    while (f < name.size()) {
        if (name[f] == '/') {
            ++f;
            continue;
        }
        if (name[f] == '.' && f + 1 < name.size() && name[f + 1] == '/') {
            f += 2;
            continue;
        }
        while (f < name.size()) {
            const char c = name[f++];
            out += c;
            if (c == '/')
                break;
        }
    }
    if (out.size() > (anchored ? 1u : 0u) && out.back() == '/')
        out.pop_back();
    if (out.empty())
        out = ".";
    return out;
}

// Upstream util1.c:pathjoin: a '/' goes between unless @p dir already ends with one; the
// result is cut to what its MAXPATHLEN buffer holds.
std::string path_join(std::string_view dir, std::string_view name)
{
    std::string out(dir);
    if (out.empty() || out.back() != '/')
        out += '/';
    out += name;
    if (out.size() > kFieldCap)
        out.resize(kFieldCap);
    return out;
}

std::string file_field(const LogSession& s, const LogItem& item)
{
    // Upstream: log.c:log_formatted, case 'f'.
    std::string_view name = item.name;
    name = name.substr(0, kFieldCap);
    std::string path;
    if (s.am_sender && item.sender_dir)
        path = clean_fname(path_join(*item.sender_dir, name));
    else if (item.daemon_dir && (name.empty() || name[0] != '/'))
        path = clean_fname(path_join(*item.daemon_dir, name));
    else
        path = clean_fname(name);
    if (!path.empty() && path[0] == '/')
        path.erase(0, 1);
    return path;
}

std::string name_field(const LogItem& item)
{
    std::string n = item.name.substr(0, kFieldCap);
    if (S_ISDIR(item.mode) && n.size() < kFieldCap)
        n += '/';
    return n;
}

std::string link_field(const LogItem& item, const FieldSpec& fs)
{
    // Upstream: log.c:log_formatted, case 'L'. The width pads the name, not the arrow.
    std::string_view target;
    std::string prefix;
    if (!item.hlink.empty()) {
        prefix = " => ";
        target = item.hlink;
    } else if (S_ISLNK(item.mode) && (item.iflags & kItemDeleted) == 0) {
        prefix = " -> ";
        target = item.symlink_target;
    } else {
        if (!fs.present)
            return {};
        prefix = "    ";
    }
    return prefix + pad_text(target, fs, kFieldCap - kLinkPrefixLength);
}

// Upstream: log.c:log_formatted, case 'C'. A blank stays unpadded even with a width,
// because upstream builds it in the buffer it only pads other values into.
std::optional<std::string> checksum_field(const LogSession& s, const LogItem& item, bool& padded)
{
    const std::optional<std::string>* sum = nullptr;
    if (S_ISREG(item.mode)) {
        if (s.always_checksum && (item.iflags & kItemDeleted) == 0)
            sum = &item.file_sum_hex;
        else if (item.iflags & kItemTransfer)
            sum = &item.xfer_sum_hex;
    }
    if (sum && *sum) {
        padded = true;
        return **sum;
    }
    padded = false;
    return std::string(std::min(s.checksum_length, kFieldCap / 2) * 2, ' ');
}

std::int64_t transferred_bytes(const LogSession& s, const LogItem& item, char esc) noexcept
{
    // %b is what moved the file's data (written by a sender, read by a receiver); %c is
    // the other direction (the block checksums).
    if ((item.iflags & kItemTransfer) == 0)
        return 0;
    return s.am_sender != (esc == 'c') ? item.bytes_written : item.bytes_read;
}

// The value of one escape. "padded" says whether the generic "%<spec>s" padding still
// applies (upstream: the value is not already in its field buffer).
struct Expansion {
    std::optional<std::string> text; // nullopt: leave the escape as literal text
    bool padded = true;
};

Expansion expand(char esc, const FieldSpec& fs, int humanize, const LogSession& s, const LogItem& item)
{
    Expansion e;
    switch (esc) {
    case 'h':
        e.text = s.remote_host;
        break;
    case 'a':
        e.text = s.remote_addr;
        break;
    case 'l':
        e.text = pad_text(format_big_num(item.length, humanize), fs, kFieldCap);
        e.padded = false;
        break;
    case 'U':
        e.text = pad_number(std::to_string(item.uid.value_or(0)), fs, kFieldCap);
        e.padded = false;
        break;
    case 'G':
        if (!item.gid) {
            e.text = "DEFAULT";
        } else {
            e.text = pad_number(std::to_string(*item.gid), fs, kFieldCap);
            e.padded = false;
        }
        break;
    case 'p':
        e.text = pad_number(std::to_string(static_cast<int>(s.pid)), fs, kFieldCap);
        e.padded = false;
        break;
    case 'M': {
        std::string t = format_timestring(item.mtime);
        for (char& c : t)
            if (c == ' ')
                c = '-';
        e.text = std::move(t);
        break;
    }
    case 'B':
        e.text = permission_string(item.mode).substr(1);
        break;
    case 'o':
        e.text = item.op;
        break;
    case 'f':
        e.text = file_field(s, item);
        break;
    case 'n':
        e.text = name_field(item);
        break;
    case 'L':
        e.text = link_field(item, fs);
        e.padded = false;
        break;
    case 'm':
        e.text = s.module_name;
        break;
    case 't':
        e.text = format_timestring(s.now);
        break;
    case 'P':
        e.text = s.module_path;
        break;
    case 'u':
        e.text = s.auth_user;
        break;
    case 'b':
    case 'c':
        e.text = pad_text(format_big_num(transferred_bytes(s, item, esc), humanize), fs, kFieldCap);
        e.padded = false;
        break;
    case 'C':
        e.text = checksum_field(s, item, e.padded);
        break;
    case 'i': {
        ItemizeView v;
        v.iflags = item.iflags;
        v.mode = item.mode;
        v.sending = !item.op.empty() && item.op[0] == 's';
        v.local_server = s.local_server;
        v.preserve_mtimes = s.preserve_mtimes;
        v.receiver_symlink_times = s.receiver_symlink_times;
        e.text = itemize_string(v);
        break;
    }
    case '%':
        e.text = "%";
        break;
    default:
        break;
    }
    return e;
}

} // namespace

LogLine render_log_format(std::string_view format, const LogSession& session, const LogItem& item)
{
    // Upstream: log.c:log_formatted. The C string ends at a NUL byte.
    if (const auto nul = format.find('\0'); nul != std::string_view::npos)
        format = format.substr(0, nul);
    LogLine line;
    if (format.size() > kLogMaxPathLength) {
        line.error = "log-format string is WAY too long!";
        return line;
    }

    std::string& out = line.text;
    std::size_t pos = 0;
    while (pos < format.size()) {
        const std::size_t pct = format.find('%', pos);
        if (pct == std::string_view::npos) {
            out.append(format.substr(pos));
            break;
        }
        out.append(format.substr(pos, pct - pos));

        std::size_t p = pct + 1;
        int humanize = 0;
        while (p < format.size() && format[p] == '\'') {
            ++humanize;
            ++p;
        }
        const std::size_t spec_start = p;
        if (p < format.size() && format[p] == '-')
            ++p;
        while (p < format.size() && is_digit(format[p]) && p - spec_start < kMaxSpecChars)
            ++p;
        const std::string_view spec = format.substr(spec_start, p - spec_start);
        while (p < format.size() && format[p] == '\'') {
            ++humanize;
            ++p;
        }
        if (p >= format.size()) {
            // Nothing follows: upstream meets its own trailing newline, no escape letter.
            out.append(format.substr(pct));
            break;
        }

        const char esc = format[p];
        const FieldSpec fs = parse_spec(spec);
        Expansion e = expand(esc, fs, humanize, session, item);
        if (!e.text) {
            // Unknown (or unavailable) escape: keep its text; scanning resumes at the letter.
            out.append(format.substr(pct, p - pct));
            pos = p;
            continue;
        }
        std::string value = std::move(*e.text);
        if (e.padded && fs.present)
            value = pad_text(value, fs, kFieldCap);

        // Upstream expands in place in a MAXPATHLEN+1024 buffer that also holds the rest
        // of the format and a newline; it gives up when that would not fit.
        const std::size_t rest = format.size() - (p + 1) + 1;
        if (out.size() + value.size() + rest >= kLogLineBufferSize) {
            line.text.clear();
            line.error = std::string("buffer overflow expanding %") + esc + " -- exiting";
            return line;
        }
        out += value;
        pos = p + 1;
    }
    return line;
}

std::string escape_log_file_text(std::string_view text)
{
    // Upstream: log.c:filtered_fwrite(use_isprint=0, escape_c1=1), as logit calls it.
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        const bool looks_escaped = c == '\\' && i + 4 < text.size() && text[i + 1] == '#'
            && is_digit(text[i + 2]) && is_digit(text[i + 3]) && is_digit(text[i + 4]);
        const bool control = c != '\t' && (c < 0x20 || (c >= 0x80 && c <= 0x9f));
        if (looks_escaped || control) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\#%03o", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

bool log_format_has(std::string_view format, char esc) noexcept
{
    // Upstream: log.c:log_format_has; it must find the escape letter exactly where
    // render_log_format() does.
    if (const auto nul = format.find('\0'); nul != std::string_view::npos)
        format = format.substr(0, nul);
    std::size_t p = 0;
    while ((p = format.find('%', p)) != std::string_view::npos) {
        ++p;
        while (p < format.size() && format[p] == '\'')
            ++p;
        const std::size_t spec_start = p;
        if (p < format.size() && format[p] == '-')
            ++p;
        while (p < format.size() && is_digit(format[p]) && p - spec_start < kMaxSpecChars)
            ++p;
        while (p < format.size() && format[p] == '\'')
            ++p;
        if (p >= format.size())
            return false;
        if (format[p] == esc)
            return true;
        if (format[p] == '%')
            ++p;
    }
    return false;
}

std::optional<std::string> TransferLogFormat::delete_format(bool dry_run) const
{
    // Upstream: log.c:log_delete (the log-file half).
    if (!format || dry_run)
        return std::nullopt;
    return has_o_or_i ? *format : std::string("deleting %n");
}

TransferLogFormat resolve_transfer_log_format(const std::optional<std::string>& daemon_log_file_format,
                                              bool transfer_logging, std::string_view module_log_format)
{
    // Upstream: clientserver.c:rsync_module.
    TransferLogFormat t;
    t.format = daemon_log_file_format;
    if (transfer_logging && !t.format)
        t.format = std::string(module_log_format);
    if (t.format) {
        t.has_i = log_format_has(*t.format, 'i');
        t.has_o_or_i = t.has_i || log_format_has(*t.format, 'o');
    }
    return t;
}

LogItem make_delete_item(std::string name, std::uint32_t mode, bool preserve_gid)
{
    // Upstream: log.c:log_delete logs through a zero-filled placeholder entry.
    LogItem item;
    item.op = "del.";
    item.name = std::move(name);
    item.mode = mode;
    item.iflags = kItemDeleted;
    if (preserve_gid)
        item.gid = 0;
    return item;
}

std::string session_totals_line(std::int64_t total_written, std::int64_t total_read,
                                std::int64_t total_size)
{
    // Upstream: log.c:log_exit.
    return "sent " + format_big_num(total_written, 0) + " bytes  received " + format_big_num(total_read, 0)
        + " bytes  total size " + format_big_num(total_size, 0);
}

std::string format_big_num(std::int64_t num, int human_flag)
{
    // Upstream: lib/compat.c:do_big_num in the C locale (',' groups, '.' decimals).
    if (human_flag > 1) {
        const std::int64_t mult = human_flag == 2 ? 1000 : 1024;
        if (num >= mult || num <= -mult) {
            double d = static_cast<double>(num) / static_cast<double>(mult);
            if (num < 0)
                d = -d;
            char units = 'P';
            const double m = static_cast<double>(mult);
            if (d < m)
                units = 'K';
            else if ((d /= m) < m)
                units = 'M';
            else if ((d /= m) < m)
                units = 'G';
            else if ((d /= m) < m)
                units = 'T';
            else
                d /= m;
            if (num < 0)
                d = -d;
            char buf[64];
            const auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed, 2);
            std::string out(buf, r.ptr);
            out += units;
            return out;
        }
    }
    // Work on the magnitude as unsigned so that INT64_MIN needs no special case.
    const bool negative = num < 0;
    std::uint64_t mag = negative ? 0 - static_cast<std::uint64_t>(num) : static_cast<std::uint64_t>(num);
    std::string rev;
    int group = 0;
    do {
        if (human_flag && group == 3) {
            rev += ',';
            group = 0;
        }
        rev += static_cast<char>('0' + mag % 10);
        ++group;
        mag /= 10;
    } while (mag);
    if (negative)
        rev += '-';
    return std::string(rev.rbegin(), rev.rend());
}

std::string format_timestring(std::time_t t)
{
    // Upstream: util1.c:timestring (its buffer keeps 19 characters).
    struct tm tm {};
    if (!localtime_r(&t, &tm))
        return "(time out of range)";
    char buf[64];
    // Upstream adds 1900 in int arithmetic; wrap the same way instead of overflowing.
    const auto year = static_cast<int>(static_cast<unsigned>(tm.tm_year) + 1900u);
    std::snprintf(buf, sizeof buf, "%4d/%02d/%02d %02d:%02d:%02d", year, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec);
    std::string out(buf);
    if (out.size() > 19)
        out.resize(19);
    return out;
}

std::string permission_string(std::uint32_t mode)
{
    // Upstream: lib/permstring.c:permstring.
    static constexpr char kLetters[] = "rwxrwxrwx";
    std::string p = "----------";
    for (int i = 0; i < 9; ++i)
        if (mode & (1u << i))
            p[static_cast<std::size_t>(9 - i)] = kLetters[8 - i];
    if (mode & S_ISUID)
        p[3] = (mode & S_IXUSR) ? 's' : 'S';
    if (mode & S_ISGID)
        p[6] = (mode & S_IXGRP) ? 's' : 'S';
    if (mode & S_ISVTX)
        p[9] = (mode & S_IXOTH) ? 't' : 'T';
    if (S_ISDIR(mode))
        p[0] = 'd';
    else if (S_ISLNK(mode))
        p[0] = 'l';
    else if (S_ISBLK(mode))
        p[0] = 'b';
    else if (S_ISCHR(mode))
        p[0] = 'c';
    else if (S_ISSOCK(mode))
        p[0] = 's';
    else if (S_ISFIFO(mode))
        p[0] = 'p';
    return p;
}

std::string checksum_hex(std::span<const std::uint8_t> sum, bool reversed)
{
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(sum.size() * 2);
    for (std::size_t k = 0; k < sum.size(); ++k) {
        const std::uint8_t b = sum[reversed ? sum.size() - 1 - k : k];
        out += kDigits[b >> 4];
        out += kDigits[b & 15];
    }
    return out;
}

} // namespace ocr::transfer
