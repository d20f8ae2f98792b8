// SPDX-License-Identifier: MIT
// Parsing a daemon's argument list the way upstream rsync's popt-based parse_arguments does.
#include "daemon/server_options.hpp"

#include "daemon/daemon_args.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <stdexcept>

namespace ocr::daemon {

// ---------------------------------------------------------------------------------------
// Small upstream helpers
// ---------------------------------------------------------------------------------------

namespace {

// Upstream's option errors live in a 200-byte err_buf filled by snprintf, so a message
// keeps at most 199 bytes (and then loses its newline).
constexpr std::size_t kErrBufSize = 200;

std::string clip_err(std::string text)
{
    if (text.size() > kErrBufSize - 1)
        text.resize(kErrBufSize - 1);
    return text;
}

bool is_digit(char c) noexcept
{
    return c >= '0' && c <= '9';
}

char ascii_lower(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals_ascii(std::string_view s, std::string_view word) noexcept
{
    if (s.size() != word.size())
        return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (ascii_lower(s[i]) != ascii_lower(word[i]))
            return false;
    }
    return true;
}

// glibc's atoi(): strtol() saturating at LONG_MAX, then truncated to int.
int c_atoi(std::string_view s) noexcept
{
    std::size_t i = 0;
    while (i < s.size() && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')))
        ++i;
    bool neg = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    std::uint64_t v = 0;
    bool saturated = false;
    for (; i < s.size() && is_digit(s[i]); ++i) {
        const std::uint64_t d = static_cast<std::uint64_t>(s[i] - '0');
        if (v > (static_cast<std::uint64_t>(LLONG_MAX) - d) / 10) {
            saturated = true;
            break;
        }
        v = v * 10 + d;
    }
    std::int64_t lv;
    if (saturated)
        lv = neg ? LLONG_MIN : LLONG_MAX;
    else
        lv = neg ? -static_cast<std::int64_t>(v) : static_cast<std::int64_t>(v);
    return static_cast<int>(static_cast<std::int32_t>(static_cast<std::uint32_t>(
        static_cast<std::uint64_t>(lv) & 0xffffffffu)));
}

// glibc's atol() for --stop-after; nullopt when the value does not fit.
std::optional<long> c_atol(std::string_view s) noexcept
{
    std::string tmp(s);
    errno = 0;
    const long v = std::strtol(tmp.c_str(), nullptr, 10);
    if (errno == ERANGE)
        return std::nullopt;
    return v;
}

} // namespace

std::string do_big_num(std::int64_t num, int human_flag)
{
    // Upstream: lib/compat.c:do_big_num in the C locale ("," groups, "." decimals).
    if (human_flag > 1) {
        const int mult = human_flag == 2 ? 1000 : 1024;
        if (num >= mult || num <= -mult) {
            double dnum = static_cast<double>(num) / mult;
            if (num < 0)
                dnum = -dnum;
            char units;
            if (dnum < mult)
                units = 'K';
            else if ((dnum /= mult) < mult)
                units = 'M';
            else if ((dnum /= mult) < mult)
                units = 'G';
            else if ((dnum /= mult) < mult)
                units = 'T';
            else {
                dnum /= mult;
                units = 'P';
            }
            if (num < 0)
                dnum = -dnum;
            char buf[64];
            std::snprintf(buf, sizeof buf, "%.2f%c", dnum, units);
            return buf;
        }
    }
    std::string digits;
    const bool negative = num < 0;
    // Work on the magnitude without overflowing for INT64_MIN.
    const auto unsigned_num = static_cast<std::uint64_t>(num);
    std::uint64_t mag = negative ? 0 - unsigned_num : unsigned_num;
    int group = 0;
    if (mag == 0)
        digits.push_back('0');
    while (mag) {
        if (human_flag) {
            if (group == 3) {
                digits.push_back(',');
                group = 1;
            } else {
                ++group;
            }
        }
        digits.push_back(static_cast<char>('0' + mag % 10));
        mag /= 10;
    }
    if (negative)
        digits.push_back('-');
    return std::string(digits.rbegin(), digits.rend());
}

std::int64_t parse_size_arg(std::string_view arg, char def_suffix, std::string_view opt_name,
                            std::int64_t min_value, std::int64_t max_value, bool unlimited_0,
                            std::string& err)
{
    // Upstream: options.c:parse_size_arg.
    const std::int64_t size_max = max_value >= 0 ? max_value : INT64_MAX;
    std::string_view reason = "invalid";
    std::string_view min_max;
    std::int64_t limit = -1;
    std::int64_t size = 1;

    auto fail = [&]() -> std::int64_t {
        std::string text = "--";
        text.append(opt_name);
        text.push_back('=');
        text.append(arg);
        text.append(" is ");
        text.append(reason);
        // snprintf into err_buf with room for 199 bytes; the newline goes at most at 198.
        const std::size_t full = text.size();
        if (!min_max.empty() && limit >= 0 && full < kErrBufSize - 10) {
            text.append(" (");
            text.append(min_max);
            text.append(": ");
            text.append(do_big_num(limit, 3));
            if (unlimited_0 && min_max == "min")
                text.append(" or 0 for unlimited");
            text.push_back(')');
        }
        if (text.size() > kErrBufSize - 2)
            text.resize(kErrBufSize - 2);
        text.push_back('\n');
        err = std::move(text);
        return -1;
    };
    auto too_large = [&]() {
        reason = "too large";
        min_max = "max";
        limit = max_value;
        return fail();
    };

    std::size_t pos = 0;
    while (pos < arg.size() && is_digit(arg[pos]))
        ++pos;
    if (pos < arg.size() && arg[pos] == '.') {
        ++pos;
        while (pos < arg.size() && is_digit(arg[pos]))
            ++pos;
    }
    const std::size_t number_end = pos;
    char suffix = def_suffix;
    if (pos < arg.size() && arg[pos] != '+' && arg[pos] != '-')
        suffix = arg[pos++];
    int reps;
    switch (suffix) {
    case 'b': case 'B': reps = 0; break;
    case 'k': case 'K': reps = 1; break;
    case 'm': case 'M': reps = 2; break;
    case 'g': case 'G': reps = 3; break;
    case 't': case 'T': reps = 4; break;
    case 'p': case 'P': reps = 5; break;
    default: return fail();
    }
    std::int64_t mult;
    if (pos < arg.size() && (arg[pos] == 'b' || arg[pos] == 'B')) {
        mult = 1000;
        ++pos;
    } else if (pos == arg.size() || arg[pos] == '+' || arg[pos] == '-') {
        mult = 1024;
    } else if (arg.size() - pos >= 2 && ascii_lower(arg[pos]) == 'i'
               && ascii_lower(arg[pos + 1]) == 'b') {
        mult = 1024;
        pos += 2;
    } else {
        return fail();
    }
    while (reps--) {
        if (size > size_max / mult)
            return too_large();
        size *= mult;
    }

    // strtod() of the number part; only digits and one '.' can be there.
    double dsize = 0.0;
    {
        const std::string_view num = arg.substr(0, number_end);
        if (!num.empty() && num != ".") {
            const auto res = std::from_chars(num.data(), num.data() + num.size(), dsize);
            if (res.ec == std::errc::result_out_of_range)
                return too_large();
            if (res.ec != std::errc())
                dsize = 0.0;
        }
    }
    const double room = static_cast<double>(size_max) / static_cast<double>(size);
    if (dsize < 0 || dsize > room || (max_value < 0 && dsize >= room))
        return too_large();
    size = static_cast<std::int64_t>(dsize * static_cast<double>(size));
    if (pos < arg.size() && (arg[pos] == '+' || arg[pos] == '-') && pos + 1 < arg.size()
        && arg[pos + 1] == '1' && pos != 0) {
        if (arg[pos] == '+') {
            if (size == size_max)
                return too_large();
            ++size;
        } else {
            --size;
        }
        pos += 2;
    }
    if (pos != arg.size())
        return fail();
    if (size < 0 || (max_value >= 0 && size > max_value))
        return too_large();
    if (size < min_value && (!unlimited_0 || size != 0)) {
        reason = "too small";
        min_max = "min";
        limit = min_value;
        return fail();
    }
    return size;
}

bool chmod_spec_valid(std::string_view spec) noexcept
{
    // Upstream: chmod.c:parse_chmod, reduced to its accept/reject decision.
    enum class St { Error, First, Second, Octal };
    constexpr int kFilesOnly = 4, kDirsOnly = 2;
    constexpr int kChmodBits = 07777;
    St state = St::First;
    int where = 0, what = 0, op = 0, topoct = 0, flags = 0, copybits = 0;
    std::size_t i = 0;
    auto at = [&](std::size_t k) { return k < spec.size() ? spec[k] : '\0'; };
    while (state != St::Error) {
        const char c = at(i);
        if (c == '\0' || c == ',') {
            if (!op)
                return false;
            if (c == '\0')
                return true;
            ++i;
            state = St::First;
            where = what = op = topoct = flags = copybits = 0;
        }
        const char ch = at(i);
        switch (state) {
        case St::First:
            switch (ch) {
            case 'D':
                if (flags & kFilesOnly)
                    state = St::Error;
                flags |= kDirsOnly;
                break;
            case 'F':
                if (flags & kDirsOnly)
                    state = St::Error;
                flags |= kFilesOnly;
                break;
            case 'u': case 'g': case 'o': case 'a':
                where |= 1;
                break;
            case '+': case '-': case '=':
                op = 1;
                state = St::Second;
                break;
            default:
                if (is_digit(ch) && ch < '8' && !where) {
                    op = 1;
                    state = St::Octal;
                    where = 1;
                    what = ch - '0';
                } else {
                    state = St::Error;
                }
                break;
            }
            break;
        case St::Second:
            switch (ch) {
            case 'r': case 'w': case 'x': case 'X':
                if (copybits)
                    state = St::Error;
                what |= 1;
                break;
            case 's': case 't':
                if (copybits)
                    state = St::Error;
                topoct |= 1;
                break;
            case 'u': case 'g': case 'o':
                if (what || topoct || copybits)
                    state = St::Error;
                copybits = 1;
                break;
            default:
                state = St::Error;
                break;
            }
            break;
        case St::Octal:
            if (is_digit(ch) && ch < '8') {
                what = what * 8 + (ch - '0');
                if (what > kChmodBits)
                    state = St::Error;
            } else {
                state = St::Error;
            }
            break;
        case St::Error:
            break;
        }
        ++i;
    }
    return false;
}

bool log_format_has(const std::optional<std::string>& format, char esc) noexcept
{
    // Upstream: log.c:log_format_has (LOG_FMT_SIZE is 32, so at most 23 width digits).
    if (!format)
        return false;
    const std::string& f = *format;
    std::size_t p = 0;
    while ((p = f.find('%', p)) != std::string::npos) {
        ++p;
        while (p < f.size() && f[p] == '\'')
            ++p;
        int width = 1;
        if (p < f.size() && f[p] == '-') {
            ++p;
            ++width;
        }
        while (p < f.size() && is_digit(f[p]) && width < 32 - 8) {
            ++p;
            ++width;
        }
        while (p < f.size() && f[p] == '\'')
            ++p;
        if (p >= f.size())
            break;
        if (f[p] == esc)
            return true;
        if (f[p] == '%')
            ++p;
    }
    return false;
}

namespace {

// Upstream: options.c:parse_hostspec. Returns true when a host part was found.
bool parse_hostspec(std::string_view str, bool url)
{
    std::size_t host_start = 0;
    std::size_t hostlen = 0;
    bool have_hostlen = false;
    std::size_t s = 0;
    for (;; ++s) {
        if (s == str.size())
            return url; // running out of string is only fine for rsync://
        const char c = str[s];
        if (c == ':' || c == '/') {
            if (!have_hostlen) {
                hostlen = s - host_start;
                have_hostlen = true;
            }
            ++s;
            if (c == '/') {
                if (!url)
                    return false;
            } else if (url) {
                while (s < str.size() && is_digit(str[s]))
                    ++s;
                if (s < str.size() && str[s++] != '/')
                    return false;
            }
            return true;
        }
        if (c == '@') {
            host_start = s + 1;
        } else if (c == '[') {
            if (s != host_start++)
                return false;
            while (s < str.size() && str[s] != ']' && str[s] != '/')
                ++s;
            hostlen = s - host_start;
            have_hostlen = true;
            if (s >= str.size() || str[s] != ']')
                return false;
            const char after = s + 1 < str.size() ? str[s + 1] : '\0';
            if ((after != '\0' && after != '/' && after != ':') || !hostlen)
                return false;
        }
    }
}

} // namespace

bool names_remote_host(std::string_view s)
{
    // Upstream: options.c:check_for_hostspec with a port pointer.
    constexpr std::string_view kUrl = "rsync://";
    if (s.size() >= kUrl.size() && iequals_ascii(s.substr(0, kUrl.size()), kUrl)
        && parse_hostspec(s.substr(kUrl.size()), true))
        return true;
    return parse_hostspec(s, false);
}

// ---------------------------------------------------------------------------------------
// --info / --debug words
// ---------------------------------------------------------------------------------------

namespace {

constexpr std::uint8_t kDefaultPriority = 0;
constexpr std::uint8_t kUserPriority = 2;
constexpr std::uint8_t kLimitPriority = 3;

enum class WordsResult { Ok, Help, Unknown };

struct WordsOutcome {
    WordsResult result = WordsResult::Ok;
    std::string unknown; // the unknown word (for the error line)
};

// Upstream: options.c:parse_output_words.
template <std::size_t N>
WordsOutcome parse_output_words(std::span<const OutputWord> words, std::array<short, N>& levels,
                                std::array<std::uint8_t, N>* priorities, std::string_view str,
                                std::uint8_t priority, bool am_server)
{
    WordsOutcome out;
    std::size_t pos = 0;
    while (pos <= str.size()) {
        std::size_t comma = str.find(',', pos);
        const bool last = comma == std::string_view::npos;
        if (last)
            comma = str.size();
        std::string_view tok = str.substr(pos, comma - pos);
        pos = comma + 1;
        if (!tok.empty()) {
            std::size_t len = tok.size();
            if (!is_digit(tok[0])) {
                while (len && is_digit(tok[len - 1]))
                    --len;
            }
            int lev = (len < tok.size() && is_digit(tok[len])) ? c_atoi(tok.substr(len)) : 1;
            if (lev > kMaxOutLevel || lev < 0)
                lev = kMaxOutLevel;
            std::string_view name = tok.substr(0, len);
            if (len == 4 && iequals_ascii(name, "help"))
                return WordsOutcome{WordsResult::Help, {}};
            if (len == 4 && iequals_ascii(name, "none")) {
                len = 0;
                lev = 0;
            } else if (len == 3 && iequals_ascii(name, "all")) {
                len = 0;
            }
            bool matched = false;
            for (std::size_t j = 0; j < words.size() && j < N; ++j) {
                if (len == 0 || iequals_ascii(name, words[j].name)) {
                    const std::uint8_t have = priorities ? (*priorities)[j] : 0;
                    if (priority >= have) {
                        if (priorities)
                            (*priorities)[j] = priority;
                        levels[j] = static_cast<short>(lev);
                    }
                    if (len) {
                        matched = true;
                        break;
                    }
                }
            }
            if (len && !matched && !am_server)
                return WordsOutcome{WordsResult::Unknown, std::string(name)};
        }
        if (last)
            break;
    }
    return out;
}

void set_output_verbosity(ServerOptions& o, int level, std::uint8_t priority)
{
    if (level > kMaxVerbosity)
        level = kMaxVerbosity;
    for (int j = 0; j <= level; ++j) {
        (void)parse_output_words(info_words(), o.info_levels, &o.info_priority,
                                 info_verbosity(j), priority, true);
        (void)parse_output_words(debug_words(), o.debug_levels, &o.debug_priority,
                                 debug_verbosity(j), priority, true);
    }
}

} // namespace

void limit_output_verbosity(ServerOptions& o, int level)
{
    // Upstream: options.c:limit_output_verbosity.
    if (level > kMaxVerbosity)
        return;
    std::array<short, 13> info_limits{};
    std::array<short, 24> debug_limits{};
    for (int j = 0; j <= level; ++j) {
        (void)parse_output_words<13>(info_words(), info_limits, nullptr, info_verbosity(j),
                                 kLimitPriority, true);
        (void)parse_output_words<24>(debug_words(), debug_limits, nullptr, debug_verbosity(j),
                                 kLimitPriority, true);
    }
    for (std::size_t j = 0; j < o.info_levels.size(); ++j) {
        if (o.info_levels[j] > info_limits[j])
            o.info_levels[j] = info_limits[j];
    }
    for (std::size_t j = 0; j < o.debug_levels.size(); ++j) {
        if (o.debug_levels[j] > debug_limits[j])
            o.debug_levels[j] = debug_limits[j];
    }
}

// ---------------------------------------------------------------------------------------
// The popt scanner
// ---------------------------------------------------------------------------------------

namespace {

// popt error codes (popt.h POPT_ERROR_*).
constexpr int kPoptNoArg = -10;
constexpr int kPoptBadOpt = -11;
constexpr int kPoptUnwantedArg = -12;
constexpr int kPoptBadNumber = -17;
constexpr int kPoptOverflow = -18;

std::string_view popt_strerror(int code)
{
    // Upstream: popt.c:poptStrerror.
    switch (code) {
    case kPoptNoArg: return "missing argument";
    case kPoptUnwantedArg: return "option does not take an argument";
    case kPoptBadOpt: return "unknown option";
    case kPoptBadNumber: return "invalid numeric value";
    case kPoptOverflow: return "number too large or too small";
    default: return "unknown error";
    }
}

int* int_member(ServerOptions& o, OptVar v)
{
    switch (v) {
    case OptVar::Verbose: return &o.verbose;
    case OptVar::Msgs2stderr: return &o.msgs2stderr;
    case OptVar::OutputMotd: return &o.output_motd;
    case OptVar::DoStats: return &o.do_stats;
    case OptVar::HumanReadable: return &o.human_readable;
    case OptVar::DryRun: return &o.dry_run;
    case OptVar::Recurse: return &o.recurse;
    case OptVar::AllowIncRecurse: return &o.allow_inc_recurse;
    case OptVar::XferDirs: return &o.xfer_dirs;
    case OptVar::PreservePerms: return &o.preserve_perms;
    case OptVar::PreserveExecutability: return &o.preserve_executability;
    case OptVar::PreserveAcls: return &o.preserve_acls;
    case OptVar::PreserveXattrs: return &o.preserve_xattrs;
    case OptVar::PreserveMtimes: return &o.preserve_mtimes;
    case OptVar::PreserveAtimes: return &o.preserve_atimes;
    case OptVar::OpenNoatime: return &o.open_noatime;
    case OptVar::PreserveCrtimes: return &o.preserve_crtimes;
    case OptVar::OmitDirTimes: return &o.omit_dir_times;
    case OptVar::OmitLinkTimes: return &o.omit_link_times;
    case OptVar::ModifyWindow: return &o.modify_window;
    case OptVar::AmRoot: return &o.am_root;
    case OptVar::PreserveUid: return &o.preserve_uid;
    case OptVar::PreserveGid: return &o.preserve_gid;
    case OptVar::PreserveDevices: return &o.preserve_devices;
    case OptVar::CopyDevices: return &o.copy_devices;
    case OptVar::WriteDevices: return &o.write_devices;
    case OptVar::PreserveSpecials: return &o.preserve_specials;
    case OptVar::DropDevices: return &o.drop_devices;
    case OptVar::PreserveLinks: return &o.preserve_links;
    case OptVar::CopyLinks: return &o.copy_links;
    case OptVar::CopyUnsafeLinks: return &o.copy_unsafe_links;
    case OptVar::SafeSymlinks: return &o.safe_symlinks;
    case OptVar::InsecureLinks: return &o.insecure_links;
    case OptVar::MungeSymlinks: return &o.munge_symlinks;
    case OptVar::CopyDirlinks: return &o.copy_dirlinks;
    case OptVar::KeepDirlinks: return &o.keep_dirlinks;
    case OptVar::PreserveHardLinks: return &o.preserve_hard_links;
    case OptVar::RelativePaths: return &o.relative_paths;
    case OptVar::ImpliedDirs: return &o.implied_dirs;
    case OptVar::IgnoreTimes: return &o.ignore_times;
    case OptVar::SizeOnly: return &o.size_only;
    case OptVar::OneFileSystem: return &o.one_file_system;
    case OptVar::UpdateOnly: return &o.update_only;
    case OptVar::IgnoreNonExisting: return &o.ignore_non_existing;
    case OptVar::IgnoreExisting: return &o.ignore_existing;
    case OptVar::SparseFiles: return &o.sparse_files;
    case OptVar::PreallocateFiles: return &o.preallocate_files;
    case OptVar::Inplace: return &o.inplace;
    case OptVar::AppendMode: return &o.append_mode;
    case OptVar::DeleteDuring: return &o.delete_during;
    case OptVar::DeleteMode: return &o.delete_mode;
    case OptVar::DeleteBefore: return &o.delete_before;
    case OptVar::DeleteAfter: return &o.delete_after;
    case OptVar::DeleteExcluded: return &o.delete_excluded;
    case OptVar::MissingArgs: return &o.missing_args;
    case OptVar::RemoveSourceFiles: return &o.remove_source_files;
    case OptVar::ForceDelete: return &o.force_delete;
    case OptVar::IgnoreErrors: return &o.ignore_errors;
    case OptVar::MaxDelete: return &o.max_delete;
    case OptVar::CvsExclude: return &o.cvs_exclude;
    case OptVar::WholeFile: return &o.whole_file;
    case OptVar::AlwaysChecksum: return &o.always_checksum;
    case OptVar::FuzzyBasis: return &o.fuzzy_basis;
    case OptVar::CompressionLevel: return &o.do_compression_level;
    case OptVar::CompressionThreads: return &o.do_compression_threads;
    case OptVar::DoProgress: return &o.do_progress;
    case OptVar::KeepPartial: return &o.keep_partial;
    case OptVar::DelayUpdates: return &o.delay_updates;
    case OptVar::PruneEmptyDirs: return &o.prune_empty_dirs;
    case OptVar::ItemizeChanges: return &o.itemize_changes;
    case OptVar::Bwlimit: return &o.bwlimit;
    case OptVar::MakeBackups: return &o.make_backups;
    case OptVar::ListOnly: return &o.list_only;
    case OptVar::EolNulls: return &o.eol_nulls;
    case OptVar::OldStyleArgs: return &o.old_style_args;
    case OptVar::ProtectArgs: return &o.protect_args;
    case OptVar::TrustSender: return &o.trust_sender;
    case OptVar::NumericIds: return &o.numeric_ids;
    case OptVar::IoTimeout: return &o.io_timeout;
    case OptVar::ConnectTimeout: return &o.connect_timeout;
    case OptVar::DoFsync: return &o.do_fsync;
    case OptVar::DefaultAfHint: return &o.default_af_hint;
    case OptVar::Allow8bitChars: return &o.allow_8bit_chars;
    case OptVar::MkpathDestArg: return &o.mkpath_dest_arg;
    case OptVar::UseQsort: return &o.use_qsort;
    case OptVar::RsyncPort: return &o.rsync_port;
    case OptVar::BlockingIo: return &o.blocking_io;
    case OptVar::ProtocolVersion: return &o.protocol_version;
    case OptVar::ChecksumSeed: return &o.checksum_seed;
    default: return nullptr;
    }
}

std::optional<std::string>* string_member(ServerOptions& o, OptVar v)
{
    switch (v) {
    case OptVar::ConfineRoot: return &o.confine_root;
    case OptVar::MaxSizeArg: return &o.max_size_arg;
    case OptVar::MinSizeArg: return &o.min_size_arg;
    case OptVar::MaxAllocArg: return &o.max_alloc_arg;
    case OptVar::ChecksumChoice: return &o.checksum_choice;
    case OptVar::CompressChoice: return &o.compress_choice;
    case OptVar::SkipCompress: return &o.skip_compress;
    case OptVar::PartialDir: return &o.partial_dir;
    case OptVar::LogfileName: return &o.logfile_name;
    case OptVar::LogfileFormat: return &o.logfile_format;
    case OptVar::StdoutFormat: return &o.stdout_format;
    case OptVar::BwlimitArg: return &o.bwlimit_arg;
    case OptVar::BackupDir: return &o.backup_dir;
    case OptVar::BackupSuffix: return &o.backup_suffix;
    case OptVar::BatchName: return &o.batch_name;
    case OptVar::FilesFrom: return &o.files_from;
    case OptVar::ShellCmd: return &o.shell_cmd;
    case OptVar::RsyncPath: return &o.rsync_path;
    case OptVar::Tmpdir: return &o.tmpdir;
    case OptVar::IconvOpt: return &o.iconv_opt;
    case OptVar::CopyAs: return &o.copy_as;
    case OptVar::BindAddress: return &o.bind_address;
    case OptVar::Sockopts: return &o.sockopts;
    case OptVar::PasswordFile: return &o.password_file;
    case OptVar::EarlyInputFile: return &o.early_input_file;
    case OptVar::OutbufMode: return &o.outbuf_mode;
    default: return nullptr;
    }
}

// Upstream: popt.c:poptParseInteger (strtoll with base 0, whole string) + the int range
// check of poptSaveArg.
int parse_popt_int(const std::string& text, int& out)
{
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(text.c_str(), &end, 0);
    if (!(end && *end == '\0'))
        return kPoptBadNumber;
    if (v < INT_MIN || v > INT_MAX)
        return kPoptOverflow;
    out = static_cast<int>(v);
    return 0;
}

// What the scanner hands the option loop.
struct PoptEvent {
    enum class Type { End, Option, Error, Hang };
    Type type = Type::End;
    int code = 0;        // the returned val (Option) or a popt error (Error)
    std::size_t row = 0; // the table row (Option)
    std::optional<std::string> arg; // the value of an argument-taking row
};

// A reimplementation of the parts of popt's poptGetNextOpt that rsync's table uses, with
// rsync's refuse marks applied the way set_refuse_options edits the table.
class PoptScanner {
public:
    PoptScanner(const std::vector<std::string>& argv, const RefuseSet& refused)
        : argv_(argv), refused_(refused), deleted_(argv.size(), false)
    {
    }

    // A fresh popt context over the same argv (upstream re-creates it at --server).
    void restart()
    {
        next_ = 1;
        deleted_.assign(argv_.size(), false);
        rest_leftover_ = false;
        leftovers_.clear();
        in_bundle_ = false;
    }

    PoptEvent next(ServerOptions& o)
    {
        const auto table = option_table();
        for (;;) {
            std::optional<std::string_view> long_arg;
            std::size_t row = 0;
            if (!in_bundle_) {
                if (next_ >= argv_.size())
                    return {};
                if (deleted_[next_]) {
                    ++next_;
                    continue;
                }
                const std::string& s = argv_[next_++];
                if (rest_leftover_ || s.empty() || s[0] != '-' || s == "-") {
                    leftovers_.push_back(s);
                    continue;
                }
                if (s == "--") {
                    rest_leftover_ = true;
                    continue;
                }
                if (s[1] == '-') {
                    std::string_view body = std::string_view(s).substr(2);
                    const std::size_t eq = body.find('=');
                    std::string_view name = body.substr(0, eq);
                    if (eq != std::string_view::npos)
                        long_arg = body.substr(eq + 1);
                    const auto found = find_long_option(name);
                    if (!found)
                        return error(kPoptBadOpt);
                    row = *found;
                } else {
                    // A single dash never names a long option in rsync's table.
                    in_bundle_ = true;
                    bundle_index_ = next_ - 1;
                    bundle_pos_ = 1;
                }
            }
            if (in_bundle_ && !long_arg) {
                const std::string& b = argv_[bundle_index_];
                const char c = b[bundle_pos_++];
                in_bundle_ = bundle_pos_ < b.size();
                const auto found = find_short_option(c);
                if (!found)
                    return error(kPoptBadOpt);
                row = *found;
            }

            const OptionSpec& spec = table[row];
            const bool refused = refused_.is_refused(row);
            // set_refuse_options turns a refused value row into a no-argument row and gives
            // every refused row the code kRefusedBase + index (bit-set rows keep their kind).
            ArgKind kind = spec.kind;
            if (refused && kind == ArgKind::Val)
                kind = ArgKind::None;
            const int val = refused ? act::kRefusedBase + static_cast<int>(row) : spec.val;

            PoptEvent ev;
            ev.type = PoptEvent::Type::Option;
            ev.row = row;
            ev.code = val;
            if (kind == ArgKind::None || kind == ArgKind::Val || kind == ArgKind::BitSet) {
                if (long_arg || (in_bundle_ && argv_[bundle_index_][bundle_pos_] == '='))
                    return error(kPoptUnwantedArg);
                if (int* dst = int_member(o, spec.var)) {
                    if (kind == ArgKind::BitSet)
                        *dst |= val;
                    else
                        *dst = kind == ArgKind::Val ? val : 1;
                }
            } else {
                std::optional<std::string> raw;
                if (long_arg) {
                    raw = std::string(*long_arg);
                } else if (in_bundle_) {
                    const std::string& b = argv_[bundle_index_];
                    std::size_t from = bundle_pos_;
                    if (b[from] == '=')
                        ++from;
                    raw = b.substr(from);
                    in_bundle_ = false;
                } else {
                    if (next_ >= argv_.size())
                        return error(kPoptNoArg);
                    // popt takes the next word whatever it looks like (even "-x").
                    raw = argv_[next_++];
                }
                bool hang = false;
                ev.arg = expand_next_arg(*raw, hang);
                if (hang)
                    return PoptEvent{PoptEvent::Type::Hang, 0, row, std::nullopt};
                if (kind == ArgKind::Int) {
                    int v = 0;
                    const int rc = parse_popt_int(*ev.arg, v);
                    if (rc)
                        return error(rc);
                    if (int* dst = int_member(o, spec.var))
                        *dst = v;
                } else if (auto* dst = string_member(o, spec.var)) {
                    *dst = *ev.arg;
                }
            }
            // popt hands back rows with a code, except value rows (and bit-set rows).
            const bool value_type = kind == ArgKind::Val || kind == ArgKind::BitSet;
            if (val != 0 && !value_type)
                return ev;
        }
    }

    // Upstream poptBadOption(POPT_BADOPTION_NOALIAS): the last argv word consumed.
    [[nodiscard]] std::string bad_option() const
    {
        if (next_ == 0 || next_ > argv_.size())
            return {};
        return argv_[next_ - 1];
    }

    [[nodiscard]] const std::vector<std::string>& leftovers() const { return leftovers_; }

private:
    PoptEvent error(int code)
    {
        PoptEvent ev;
        ev.type = PoptEvent::Type::Error;
        ev.code = code;
        return ev;
    }

    // Upstream: popt.c:expandNextArg. "!#:+" is replaced by the next word that does not start
    // with '-' (which is then no longer an argument of its own). When there are words left but
    // none qualifies, upstream's findNextArg loops forever; we report that as `hang`.
    std::string expand_next_arg(const std::string& s, bool& hang)
    {
        std::string out;
        out.reserve(s.size());
        std::optional<std::string> a;
        for (std::size_t i = 0; i < s.size(); ++i) {
            const char c = s[i];
            if (c == '!' && s.compare(i + 1, 3, "#:+") == 0) {
                if (!a) {
                    if (next_ < argv_.size()) {
                        for (std::size_t k = next_; k < argv_.size(); ++k) {
                            if (deleted_[k] || (!argv_[k].empty() && argv_[k][0] == '-'))
                                continue;
                            a = argv_[k];
                            deleted_[k] = true;
                            break;
                        }
                        if (!a) {
                            hang = true;
                            return out;
                        }
                    }
                }
                if (a) {
                    out.append(*a);
                    i += 3;
                    continue;
                }
            }
            out.push_back(c);
        }
        return out;
    }

    const std::vector<std::string>& argv_;
    const RefuseSet& refused_;
    std::vector<bool> deleted_;
    std::size_t next_ = 1;
    bool rest_leftover_ = false;
    std::vector<std::string> leftovers_;
    bool in_bundle_ = false;
    std::size_t bundle_index_ = 0;
    std::size_t bundle_pos_ = 0;
};

// ---------------------------------------------------------------------------------------
// --stop-at
// ---------------------------------------------------------------------------------------

// Upstream: options.c:parse_time. Accepts [[[YY]YY-]MM-]DD[Thh:mm] style times (or
// ":mm" / "Thh:mm" / "hh:mm"), filling omitted parts from @p now so the result lies ahead.
std::int64_t parse_time(std::string_view arg, std::int64_t now)
{
    const std::time_t now_t = static_cast<std::time_t>(now);
    std::tm today{};
    if (!localtime_r(&now_t, &today))
        return -1;
    std::tm t{};
    t.tm_year = t.tm_mon = t.tm_mday = -1;
    t.tm_hour = t.tm_min = t.tm_isdst = -1;
    std::size_t cp = 0;
    auto ch = [&](std::size_t k) { return k < arg.size() ? arg[k] : '\0'; };
    int in_date;
    if (ch(0) == 'T' || ch(0) == 't' || ch(0) == ':') {
        in_date = ch(0) == ':' ? 0 : -1;
        ++cp;
    } else {
        in_date = 1;
    }
    for (;; ++cp) {
        if (!is_digit(ch(cp)))
            return -1;
        long n = 0;
        do {
            n = n * 10 + (ch(cp++) - '0');
            if (n > INT_MAX / 10)
                return -1; // upstream's int would overflow; no valid time is this long
        } while (is_digit(ch(cp)));
        if (ch(cp) == ':')
            in_date = 0;
        if (in_date > 0) {
            if (t.tm_year != -1)
                return -1;
            t.tm_year = t.tm_mon;
            t.tm_mon = t.tm_mday;
            t.tm_mday = static_cast<int>(n);
            if (!ch(cp))
                break;
            if (ch(cp) == 'T' || ch(cp) == 't') {
                if (!ch(cp + 1))
                    break;
                in_date = -1;
            } else if (ch(cp) != '-' && ch(cp) != '/') {
                return -1;
            }
            continue;
        }
        if (t.tm_hour != -1)
            return -1;
        t.tm_hour = t.tm_min;
        t.tm_min = static_cast<int>(n);
        if (!ch(cp)) {
            if (in_date < 0)
                return -1;
            break;
        }
        if (ch(cp) != ':')
            return -1;
        in_date = 0;
    }

    in_date = 0;
    if (t.tm_year < 0) {
        t.tm_year = today.tm_year;
        in_date = 1;
    } else if (t.tm_year < 100) {
        while (t.tm_year < today.tm_year)
            t.tm_year += 100;
    } else {
        t.tm_year -= 1900;
    }
    if (t.tm_mon < 0) {
        t.tm_mon = today.tm_mon;
        in_date = 2;
    } else {
        t.tm_mon--;
    }
    if (t.tm_mday < 0) {
        t.tm_mday = today.tm_mday;
        in_date = 3;
    }

    std::int64_t step = 0;
    if (t.tm_min < 0) {
        t.tm_hour = t.tm_min = 0;
    } else if (t.tm_hour < 0) {
        if (in_date != 3)
            return -1;
        in_date = 0;
        t.tm_hour = today.tm_hour;
        step = 60 * 60;
    }

    // mktime() may roll a too-large day into the next month; the loop below undoes that.
    int old_mday = t.tm_mday;
    if (t.tm_hour > 23 || t.tm_min > 59 || t.tm_mon < 0 || t.tm_mon >= 12 || t.tm_mday < 1
        || t.tm_mday > 31)
        return -1;
    std::time_t val = std::mktime(&t);
    if (val == static_cast<std::time_t>(-1))
        return -1;

    // Bounded: each step moves at least a day forward; a few thousand is far beyond need.
    for (int guard = 0; in_date && (val <= now_t || t.tm_mday < old_mday); ++guard) {
        if (guard > 100000)
            return -1;
        switch (in_date) {
        case 3:
            old_mday = ++t.tm_mday;
            break;
        case 2:
            if (t.tm_mday < old_mday)
                t.tm_mday = old_mday;
            else if (++t.tm_mon == 12) {
                t.tm_mon = 0;
                t.tm_year++;
            }
            break;
        case 1:
            if (t.tm_mday < old_mday) {
                if (t.tm_mon != 2 || old_mday != 29)
                    return -1;
                t.tm_mon = 1;
                t.tm_mday = 29;
            }
            t.tm_year++;
            break;
        default:
            break;
        }
        if ((val = std::mktime(&t)) == static_cast<std::time_t>(-1)) {
            if (in_date != 3 || t.tm_mday <= 28)
                return -1;
            t.tm_mday = old_mday = 1;
            in_date = 2;
        }
    }
    if (step) {
        while (val <= now_t)
            val += step;
    }
    return static_cast<std::int64_t>(val);
}

// ---------------------------------------------------------------------------------------
// The parser
// ---------------------------------------------------------------------------------------

// Checksum names upstream's valid_checksums knows (Debian's build), with the alias
// "xxhash" = xxh64.
std::optional<std::string> checksum_name(std::string_view name)
{
    static constexpr std::string_view kNames[] = {"xxh128", "xxh3", "xxh64", "xxhash",
                                                  "md5", "md4", "sha1", "none"};
    for (std::string_view n : kNames) {
        if (iequals_ascii(name, n))
            return std::string(n == "xxhash" ? std::string_view("xxh64") : n);
    }
    return std::nullopt;
}

// Upstream valid_compressions: name -> CPRES_* number.
std::optional<int> compress_number(std::string_view name)
{
    struct Item {
        std::string_view name;
        int num;
    };
    static constexpr Item kItems[] = {{"zstd", kCpresZstd}, {"lz4", kCpresLz4},
                                      {"zlibx", kCpresZlibx}, {"zlib", kCpresZlib},
                                      {"none", kCpresNone}};
    for (const Item& it : kItems) {
        if (iequals_ascii(name, it.name))
            return it.num;
    }
    return std::nullopt;
}

std::string_view alt_dest_opt(int type)
{
    switch (type) {
    case 1: return "--compare-dest";
    case 2: return "--copy-dest";
    default: return "--link-dest";
    }
}

// The parse stopped: how and why.
struct Stop {
    ParseOutcome outcome;
    std::string text;  // err_buf (with its newline) or the log line
    int exit_code;
};

class Parser {
public:
    Parser(const std::vector<std::string>& argv, const RefuseSet& refused,
           const ServerParseContext& ctx, ServerOptions& o)
        : argv_(argv), refused_(refused), ctx_(ctx), o_(o), scanner_(argv, refused)
    {
    }

    OptionParseResult run()
    {
        OptionParseResult r;
        std::optional<Stop> stop;
        if (argv_.empty())
            stop = err("argc is zero!\n");
        else
            stop = parse();
        r.options = o_;
        r.log_lines = std::move(log_);
        if (!stop) {
            r.ok = true;
            r.outcome = ParseOutcome::Ok;
            r.wants_second_batch = wants_second_;
            return r;
        }
        r.ok = false;
        r.outcome = stop->outcome;
        r.exit_code = stop->exit_code;
        std::string text = stop->text;
        if (r.outcome == ParseOutcome::OptionError) {
            // Upstream: options.c:option_error.
            if (text.empty())
                text = "Error parsing options: option may be supported on client but not on "
                       "server?\n";
            r.client_message = "rsync: " + text;
            r.log_request = true;
        } else {
            r.log_request = false;
        }
        if (!text.empty() && text.back() == '\n')
            text.pop_back();
        r.error = std::move(text);
        r.files_from_seen = o_.files_from.has_value();
        for (const auto& a : argv_) {
            if (a.compare(0, 12, "--files-from") == 0)
                r.files_from_seen = true;
        }
        return r;
    }

private:
    static Stop err(std::string text)
    {
        return Stop{ParseOutcome::OptionError, clip_err(std::move(text)), 4};
    }
    static Stop refuse(std::size_t row) { return err(refuse_error_text(row) + "\n"); }
    static Stop exit_now(std::string text, int code)
    {
        return Stop{ParseOutcome::Exit, std::move(text), code};
    }

    std::int64_t now() const
    {
        return ctx_.now ? ctx_.now : static_cast<std::int64_t>(std::time(nullptr));
    }

    std::string sanitize(const std::string& path) const
    {
        auto s = sanitize_path(path, ctx_.module_dir, 0, false, o_.relative_paths != 0);
        return s ? *s : path;
    }

    // The daemon filter check of a server-side path named by an option (upstream strips
    // the module dir that sanitize_path put in front of an absolute path).
    bool daemon_rejects_option_path(const std::string& path, bool is_dir) const
    {
        if (!ctx_.daemon_excludes)
            return false;
        if (path.empty())
            return true;
        std::string_view dir = path;
        if (dir[0] == '/')
            dir.remove_prefix(std::min(ctx_.module_dirlen, dir.size()));
        auto cleaned = clean_fname(dir, kCfnCollapseDotDotDirs);
        return ctx_.daemon_excludes(cleaned ? *cleaned : std::string(dir), is_dir);
    }

    // The check for --temp-dir and --backup-dir (upstream keeps a leading "/" for a
    // "path = /" module).
    bool daemon_rejects_dest_dir(const std::string& path) const
    {
        if (path.empty())
            return true;
        auto clean = sanitize_path(path, "/", 0, false, o_.relative_paths != 0, 4096);
        std::string c = clean ? *clean : path;
        std::string_view dir = c;
        if (!dir.empty() && dir[0] == '/' && ctx_.module_dirlen > 1)
            dir.remove_prefix(std::min(ctx_.module_dirlen, dir.size()));
        return ctx_.daemon_excludes(dir, true);
    }

    std::optional<Stop> parse();
    std::optional<Stop> handle(const PoptEvent& ev);
    std::optional<Stop> after_loop();
    std::optional<Stop> validate(std::vector<std::string>& args);

    const std::vector<std::string>& argv_;
    const RefuseSet& refused_;
    const ServerParseContext& ctx_;
    ServerOptions& o_;
    PoptScanner scanner_;
    std::vector<std::string> log_;
    bool wants_second_ = false;
};

std::optional<Stop> Parser::parse()
{
    const int orig_protect_args = o_.protect_args;
    for (;;) {
        const PoptEvent ev = scanner_.next(o_);
        if (ev.type == PoptEvent::Type::End)
            break;
        if (ev.type == PoptEvent::Type::Hang) {
            // Deviation: upstream's popt spins forever here (findNextArg never gives up);
            // we end the session instead.
            return exit_now("rsync: \"!#:+\" in an option value found no argument to use", 1);
        }
        if (ev.type == PoptEvent::Type::Error) {
            std::string text = o_.am_server ? "on remote machine: " : "";
            text += scanner_.bad_option();
            text += ": ";
            text += popt_strerror(ev.code);
            text += "\n";
            return err(std::move(text));
        }
        if (auto stop = handle(ev))
            return stop;
    }
    if (auto stop = after_loop())
        return stop;

    // Don't let the client reset protect_args once the second batch is being parsed.
    if (orig_protect_args == 2 && o_.am_server)
        o_.protect_args = 2;
    if (o_.protect_args == 1 && o_.am_server) {
        wants_second_ = true;
        return std::nullopt;
    }

    std::vector<std::string> args = scanner_.leftovers();
    return validate(args);
}

std::optional<Stop> Parser::handle(const PoptEvent& ev)
{
    const std::string arg = ev.arg.value_or(std::string());
    switch (ev.code) {
    case 'V':
        ++o_.version_opt_cnt;
        return std::nullopt;
    case act::kServer:
        if (!o_.am_server) {
            // Upstream starts parsing again from the beginning with a fresh popt context.
            scanner_.restart();
            o_.am_server = 1;
        }
        if (ctx_.features.iconv)
            o_.iconv_opt.reset();
        return std::nullopt;
    case act::kSender:
        if (!o_.am_server)
            return exit_now("rsync: --sender without --server (usage shown)", 1);
        o_.am_sender = 1;
        return std::nullopt;
    case act::kDaemon:
        return err("Attempt to hack rsync thwarted!\n");
    case act::kModifyWindow:
        o_.modify_window_set = true;
        return std::nullopt;
    case act::kFilter:
        o_.filters.push_back({FilterOption::Kind::Filter, arg});
        return std::nullopt;
    case act::kExclude:
        o_.filters.push_back({FilterOption::Kind::Exclude, arg});
        return std::nullopt;
    case act::kInclude:
        o_.filters.push_back({FilterOption::Kind::Include, arg});
        return std::nullopt;
    case act::kExcludeFrom:
    case act::kIncludeFrom: {
        std::string path = ctx_.sanitize_paths ? sanitize(arg) : arg;
        if (daemon_rejects_option_path(path, false))
            return err("Your options have been rejected by the server.\n");
        o_.filters.push_back({ev.code == act::kIncludeFrom ? FilterOption::Kind::IncludeFrom
                                                           : FilterOption::Kind::ExcludeFrom,
                              std::move(path)});
        return std::nullopt;
    }
    case 'a':
        if (refused_.archive_part)
            return refuse(*refused_.archive_part);
        if (!o_.recurse) // keep recurse == 2 from -r
            o_.recurse = 1;
        o_.preserve_links = 1;
        o_.preserve_perms = 1;
        o_.preserve_mtimes = 1;
        o_.preserve_gid = 1;
        o_.preserve_uid = 1;
        o_.preserve_devices = 1;
        o_.preserve_specials = 1;
        return std::nullopt;
    case 'D':
        o_.preserve_devices = o_.preserve_specials = 1;
        return std::nullopt;
    case act::kNoD:
        o_.preserve_devices = o_.preserve_specials = 0;
        return std::nullopt;
    case 'h':
        ++o_.human_readable;
        return std::nullopt;
    case 'H':
        ++o_.preserve_hard_links;
        return std::nullopt;
    case 'i':
        ++o_.itemize_changes;
        return std::nullopt;
    case 'U':
        if (++o_.preserve_atimes > 1)
            o_.open_noatime = 1;
        return std::nullopt;
    case 'v':
        ++o_.verbose;
        return std::nullopt;
    case 'y':
        ++o_.fuzzy_basis;
        return std::nullopt;
    case 'q':
        ++o_.quiet;
        return std::nullopt;
    case 'x':
        ++o_.one_file_system;
        return std::nullopt;
    case 'F':
        switch (++o_.f_option_cnt) {
        case 1:
            o_.filters.push_back({FilterOption::Kind::Filter, ": /.rsync-filter"});
            break;
        case 2:
            o_.filters.push_back({FilterOption::Kind::Filter, "- .rsync-filter"});
            break;
        default:
            break;
        }
        return std::nullopt;
    case 'P':
        if (refused_.partial || refused_.progress)
            return refuse(refused_.partial ? *refused_.partial : *refused_.progress);
        o_.do_progress = 1;
        o_.keep_partial = 1;
        return std::nullopt;
    case 'z':
        ++o_.do_compression;
        return std::nullopt;
    case act::kOldCompress:
        o_.compress_choice = "zlib";
        return std::nullopt;
    case act::kNewCompress:
        o_.compress_choice = "zlibx";
        return std::nullopt;
    case act::kNoCompress:
        o_.do_compression = 0;
        o_.compress_choice.reset();
        return std::nullopt;
    case act::kOldArgs:
        if (o_.old_style_args <= 0)
            o_.old_style_args = 1;
        else
            ++o_.old_style_args;
        return std::nullopt;
    case 'M':
        if (arg.empty() || arg[0] != '-')
            return err("Remote option must start with a dash: " + arg + "\n");
        o_.remote_options.push_back(arg);
        return std::nullopt;
    case act::kWriteBatch:
        o_.write_batch = 1;
        return std::nullopt;
    case act::kOnlyWriteBatch:
        o_.write_batch = -1;
        return std::nullopt;
    case act::kReadBatch:
        o_.read_batch = 1;
        return std::nullopt;
    case act::kNoIconv:
        if (ctx_.features.iconv)
            o_.iconv_opt.reset();
        return std::nullopt;
    case act::kBlockSize: {
        // The limit depends on the protocol in force at this point of the parse.
        const std::int64_t max_blength = o_.protocol_version < 30 ? (1 << 29) : (1 << 17);
        std::string e;
        const std::int64_t size = parse_size_arg(arg, 'b', "block-size", 0, max_blength, false, e);
        if (size < 0)
            return err(std::move(e));
        o_.block_size = static_cast<int>(size);
        return std::nullopt;
    }
    case act::kMaxSize:
    case act::kMinSize: {
        const bool is_max = ev.code == act::kMaxSize;
        std::string e;
        const std::int64_t size = parse_size_arg(arg, 'b', is_max ? "max-size" : "min-size",
                                                 0, -1, false, e);
        if (size < 0)
            return err(std::move(e));
        (is_max ? o_.max_size : o_.min_size) = size;
        (is_max ? o_.max_size_arg : o_.min_size_arg) = do_big_num(size, 0);
        return std::nullopt;
    }
    case act::kBwlimit: {
        std::string e;
        const std::int64_t size = parse_size_arg(arg, 'K', "bwlimit", 512, -1, true, e);
        if (size < 0)
            return err(std::move(e));
        o_.bwlimit_arg = do_big_num(size, 0);
        const std::int64_t kib = (size + 512) / 1024;
        o_.bwlimit = kib > INT_MAX ? INT_MAX : static_cast<int>(kib);
        return std::nullopt;
    }
    case act::kAppend:
        if (o_.am_server)
            ++o_.append_mode;
        else
            o_.append_mode = 1;
        return std::nullopt;
    case act::kLinkDest:
    case act::kCopyDest:
    case act::kCompareDest: {
        const int want = ev.code == act::kLinkDest ? 3 : ev.code == act::kCopyDest ? 2 : 1;
        if (o_.alt_dest_type && o_.alt_dest_type != want) {
            return err("ERROR: the " + std::string(alt_dest_opt(want))
                       + " option conflicts with the "
                       + std::string(alt_dest_opt(o_.alt_dest_type)) + " option\n");
        }
        o_.alt_dest_type = want;
        if (static_cast<int>(o_.basis_dirs.size()) >= kMaxBasisDirs) {
            return err("ERROR: at most " + std::to_string(kMaxBasisDirs) + " "
                       + std::string(alt_dest_opt(o_.alt_dest_type)) + " args may be specified\n");
        }
        o_.basis_dirs.push_back(arg);
        return std::nullopt;
    }
    case act::kChmod:
        if (!chmod_spec_valid(arg))
            return err("Invalid argument passed to --chmod (" + arg + ")\n");
        o_.chmod.push_back(arg);
        return std::nullopt;
    case act::kInfo:
    case act::kDebug: {
        const bool info = ev.code == act::kInfo;
        const WordsOutcome w = info
            ? parse_output_words(info_words(), o_.info_levels, &o_.info_priority, arg,
                                 kUserPriority, o_.am_server != 0)
            : parse_output_words(debug_words(), o_.debug_levels, &o_.debug_priority, arg,
                                 kUserPriority, o_.am_server != 0);
        if (w.result == WordsResult::Help)
            return exit_now(std::string("rsync: ") + (info ? "--info" : "--debug")
                                + "=help (word list logged)",
                            0);
        if (w.result == WordsResult::Unknown) {
            return exit_now(std::string("Unknown ") + (info ? "--info" : "--debug") + " item: \""
                                + w.unknown + "\"",
                            1);
        }
        return std::nullopt;
    }
    case act::kUsermap:
    case act::kGroupmap: {
        const bool user = ev.code == act::kUsermap;
        auto& map = user ? o_.usermap : o_.groupmap;
        const bool via_chown = user ? o_.usermap_via_chown : o_.groupmap_via_chown;
        const std::string name = user ? "--usermap" : "--groupmap";
        if (map) {
            if (via_chown)
                return err(name + " conflicts with prior --chown.\n");
            return err("You can only specify " + name + " once.\n");
        }
        map = arg;
        (user ? o_.usermap_via_chown : o_.groupmap_via_chown) = false;
        (user ? o_.preserve_uid : o_.preserve_gid) = 1;
        return std::nullopt;
    }
    case act::kChown: {
        const std::size_t colon = arg.find(':');
        const std::string user = arg.substr(0, colon);
        if (!user.empty()) {
            if (o_.usermap) {
                if (!o_.usermap_via_chown)
                    return err("--chown conflicts with prior --usermap.\n");
                return err("You can only specify a user-affecting --chown once.\n");
            }
            o_.usermap = "*:" + user;
            o_.usermap_via_chown = true;
            o_.preserve_uid = 1;
        }
        if (colon != std::string::npos && colon + 1 < arg.size()) {
            if (o_.groupmap) {
                if (!o_.groupmap_via_chown)
                    return err("--chown conflicts with prior --groupmap.\n");
                return err("You can only specify a group-affecting --chown once.\n");
            }
            o_.groupmap = "*:" + arg.substr(colon + 1);
            o_.groupmap_via_chown = true;
            o_.preserve_gid = 1;
        }
        return std::nullopt;
    }
    case act::kHelp:
        return exit_now("rsync: --help (usage logged)", 0);
    case 'A':
        if (!ctx_.features.acls) {
            return err(std::string("ACLs are not supported on this ")
                       + (o_.am_server ? "server" : "client") + "\n");
        }
        o_.preserve_acls = 1;
        o_.preserve_perms = 1;
        return std::nullopt;
    case 'X':
        if (!ctx_.features.xattrs) {
            return err(std::string("extended attributes are not supported on this ")
                       + (o_.am_server ? "server" : "client") + "\n");
        }
        ++o_.preserve_xattrs;
        return std::nullopt;
    case act::kStopAfter: {
        const std::int64_t t = now();
        o_.stop_at_utime = t;
        const auto mins = c_atol(arg);
        // Upstream multiplies without an overflow check; a product that does not fit is
        // treated as invalid here.
        if (!mins || *mins <= 0 || *mins > LONG_MAX / 60 || LONG_MAX - *mins * 60 < t)
            return err("invalid --stop-after value: " + arg + "\n");
        o_.stop_at_utime = t + *mins * 60;
        return std::nullopt;
    }
    case act::kStopAt: {
        const std::int64_t when = parse_time(arg, now());
        o_.stop_at_utime = when;
        if (when == -1)
            return err("invalid --stop-at format: " + arg + "\n");
        if (when <= now())
            return err("--stop-at time is not in the future: " + arg + "\n");
        return std::nullopt;
    }
    case act::kStderr: {
        auto is_prefix = [&](std::string_view word) {
            return !arg.empty() && arg.size() <= word.size()
                && word.compare(0, arg.size(), arg) == 0;
        };
        if (is_prefix("errors"))
            o_.msgs2stderr = 2;
        else if (is_prefix("all"))
            o_.msgs2stderr = 1;
        else if (is_prefix("client"))
            o_.msgs2stderr = 0;
        else
            return err("--stderr mode \"" + arg + "\" is not one of errors, all, or client\n");
        o_.saw_stderr_opt = 1;
        return std::nullopt;
    }
    default:
        if (ev.code >= act::kRefusedBase)
            return refuse(static_cast<std::size_t>(ev.code - act::kRefusedBase));
        // Not reachable with rsync's table: every action code is handled above.
        return err("");
    }
}

std::optional<Stop> Parser::after_loop()
{
    // Upstream: the checks right after parse_arguments' option loop.
    if (o_.msgs2stderr != 2)
        o_.saw_stderr_opt = 1;

    if (o_.version_opt_cnt)
        return exit_now("rsync: --version (version information logged)", 0);

    // Deviation: upstream also reads RSYNC_MAX_ALLOC from the daemon's own environment.
    if (o_.max_alloc_arg) {
        std::string e;
        const std::int64_t size =
            parse_size_arg(*o_.max_alloc_arg, 'B', "max-alloc", 1024 * 1024, -1, true, e);
        if (size < 0)
            return err(std::move(e));
        // CVE-2026-53794: 0 would mean "no limit at all".
        if (size == 0)
            return err("max-alloc must be greater than zero\n");
        o_.max_alloc = static_cast<std::uint64_t>(size);
    }

    if (o_.old_style_args < 0) {
        o_.old_style_args = 0;
    } else if (o_.old_style_args) {
        if (o_.protect_args > 0)
            return err("--secluded-args conflicts with --old-args.\n");
        o_.protect_args = 0;
    }

    // Deviation: a client that never sent --server would get the daemon's RSYNC_PROTECT_ARGS
    // environment upstream; we treat it as unset.
    if (o_.protect_args < 0)
        o_.protect_args = 0;

    if (o_.checksum_choice && !iequals_ascii(*o_.checksum_choice, "auto")
        && !iequals_ascii(*o_.checksum_choice, "auto,auto")) {
        // Upstream: checksum.c:parse_checksum_choice / parse_csum_name. An unknown name is
        // reported before multiplexing starts, so only the log sees it.
        const std::string& cc = *o_.checksum_choice;
        const std::size_t comma = cc.find(',');
        auto resolve = [&](std::string_view name, std::string_view shown,
                           std::string& out) -> std::optional<Stop> {
            if (iequals_ascii(name, "auto")) {
                out = o_.protocol_version >= 30 ? "md5" : "md4";
                return std::nullopt;
            }
            auto n = checksum_name(name);
            if (!n)
                return exit_now("unknown checksum name: " + std::string(shown), 4);
            out = *n;
            return std::nullopt;
        };
        if (comma != std::string::npos) {
            if (auto s = resolve(std::string_view(cc).substr(0, comma), cc, o_.xfer_checksum_name))
                return s;
            const std::string_view second = std::string_view(cc).substr(comma + 1);
            if (auto s = resolve(second, second, o_.file_checksum_name))
                return s;
        } else {
            if (auto s = resolve(cc, cc, o_.xfer_checksum_name))
                return s;
            o_.file_checksum_name = o_.xfer_checksum_name;
        }
        if (o_.xfer_checksum_name == "none")
            o_.whole_file = 1;
    } else {
        o_.checksum_choice.reset();
    }

    if (!o_.compress_choice && o_.do_compression > 1)
        o_.compress_choice = "zlibx";
    if (o_.compress_choice && !iequals_ascii(*o_.compress_choice, "auto")) {
        // Upstream: compat.c:parse_compress_choice(0).
        const auto num = compress_number(*o_.compress_choice);
        if (!num)
            return exit_now("unknown compress name: " + *o_.compress_choice, 4);
        o_.do_compression = *num;
        if (*num == kCpresNone)
            o_.compress_choice = "none";
    } else {
        o_.compress_choice.reset();
    }

    if (o_.do_compression || o_.do_compression_level != kCompressLevelNotSpecified) {
        if (!o_.do_compression)
            o_.do_compression = kCpresAuto;
        if (o_.do_compression && refused_.compress)
            return refuse(*refused_.compress);
        if (o_.do_compression_threads < 0)
            o_.do_compression_threads = 0;
        // A daemon client may not make the server spawn a huge number of threads.
        if (o_.do_compression_threads > kMaxDaemonCompressionThreads)
            o_.do_compression_threads = kMaxDaemonCompressionThreads;
    }

    // Upstream keeps -h's old meaning (--help) when it is the client's only argument.
    if (o_.human_readable > 1 && argv_.size() == 2 && !o_.am_server)
        return exit_now("rsync: -h alone (usage logged)", 0);

    if (o_.outbuf_mode && !o_.am_server) {
        const char m = ascii_lower((*o_.outbuf_mode).empty() ? '\0' : (*o_.outbuf_mode)[0]);
        if (m != 'n' && m != 'u' && m != 'l' && m != 'b' && m != 'f')
            return err("Invalid --outbuf setting -- specify N, L, or B.\n");
    }

    set_output_verbosity(o_, o_.verbose, kDefaultPriority);
    if (o_.do_stats) {
        (void)parse_output_words(info_words(), o_.info_levels, &o_.info_priority,
                                 o_.verbose > 1 ? "stats3" : "stats2", kDefaultPriority, true);
    }

    if (ctx_.features.iconv) {
        if (o_.iconv_opt && o_.protect_args != 2) {
            if (!o_.am_server && *o_.iconv_opt == "-")
                o_.iconv_opt.reset();
            else
                o_.need_unsorted_flist = 1;
        }
        if (refused_.no_iconv && !o_.iconv_opt)
            return refuse(*refused_.no_iconv);
    }

    if (o_.fuzzy_basis > 1)
        o_.fuzzy_basis = static_cast<int>(o_.basis_dirs.size()) + 1;
    return std::nullopt;
}

std::optional<Stop> Parser::validate(std::vector<std::string>& args)
{
    // Upstream: the rest of parse_arguments, after popt's leftovers become argv.
    if (o_.preserve_hard_links && !ctx_.features.hard_links) {
        return err(std::string("hard links are not supported on this ")
                   + (o_.am_server ? "server" : "client") + "\n");
    }
    if (ctx_.features.xattrs) {
        if (o_.am_root < 0 && o_.preserve_xattrs > 1)
            return err("--fake-super conflicts with -XX\n");
    } else if (o_.am_root < 0) {
        return err("--fake-super requires an rsync with extended attributes enabled\n");
    }

    if (o_.write_batch && o_.read_batch)
        return err("--write-batch and --read-batch can not be used together\n");
    if (o_.write_batch > 0 || o_.read_batch) {
        if (o_.am_server) {
            log_.push_back(std::string("ignoring --") + (o_.write_batch ? "write" : "read")
                           + "-batch option sent to server");
            o_.read_batch = o_.write_batch = 0;
            o_.batch_name.reset();
        } else if (o_.dry_run) {
            o_.write_batch = 0;
        }
    } else if (o_.write_batch < 0 && o_.dry_run) {
        o_.write_batch = 0;
    }
    if (o_.read_batch && o_.files_from)
        return err("--read-batch cannot be used with --files-from\n");
    if (o_.read_batch && o_.remove_source_files) {
        return err(std::string("--read-batch cannot be used with --remove-")
                   + (o_.remove_source_files == 1 ? "source" : "sent") + "-files\n");
    }
    if (o_.batch_name && o_.batch_name->size() > 256)
        return err("the batch-file name must be 256 characters or less.\n");

    // MAXPATHLEN - 10 on Linux.
    if (o_.tmpdir && o_.tmpdir->size() >= 4096 - 10)
        return err("the --temp-dir path is WAY too long.\n");

    if (o_.max_delete < 0 && o_.max_delete != INT_MIN)
        o_.max_delete = 0; // negative means "no deletions"

    if (o_.files_from) {
        if (o_.recurse == 1) // keep recurse == 2 from an explicit -r
            o_.recurse = 0;
        if (o_.xfer_dirs < 0)
            o_.xfer_dirs = 1;
    }

    if (args.size() < 2 && !o_.read_batch && !o_.am_server)
        o_.list_only |= 1;

    if (o_.xfer_dirs >= 4) {
        o_.filters.push_back({FilterOption::Kind::Filter, "- /*/*"});
        o_.recurse = o_.xfer_dirs = 1;
    } else if (o_.recurse) {
        o_.xfer_dirs = 1;
    } else if (o_.xfer_dirs < 0) {
        o_.xfer_dirs = o_.list_only ? 1 : 0;
    }

    if (o_.relative_paths < 0)
        o_.relative_paths = o_.files_from ? 1 : 0;
    if (!o_.relative_paths)
        o_.implied_dirs = 0;

    if (o_.delete_before + (o_.delete_during != 0) + o_.delete_after > 1)
        return err("You may not combine multiple --delete-WHEN options.\n");
    if (o_.delete_before || o_.delete_during || o_.delete_after) {
        o_.delete_mode = 1;
    } else if (o_.delete_mode || o_.delete_excluded) {
        // Choose between before and during now only when one of them is refused.
        if (refused_.delete_before) {
            if (!refused_.delete_during)
                o_.delete_during = 1;
            else
                return refuse(*refused_.delete_before);
        } else if (refused_.delete_during) {
            o_.delete_before = 1;
        }
        o_.delete_mode = 1;
    }
    if (!o_.xfer_dirs && o_.delete_mode)
        return err("--delete does not work without --recursive (-r) or --dirs (-d).\n");

    if (o_.missing_args == 3)
        o_.missing_args = 2;
    if (refused_.delete_ && (o_.delete_mode || o_.missing_args == 2))
        return refuse(*refused_.delete_);

    if (o_.remove_source_files) {
        // Only a refused "delete" (not "delete-FOO") implies refusing this.
        if (refused_.delete_ && o_.am_sender)
            return refuse(*refused_.delete_);
        o_.need_messages_from_generator = 1;
    }

    // A daemon already confines the job to its module; a peer's root could only loosen it.
    o_.confine_root.reset();

    if (ctx_.sanitize_paths) {
        for (auto& a : args) {
            auto s = sanitize_path(a, "", 0, true, o_.relative_paths != 0);
            if (s)
                a = *s;
        }
        if (o_.tmpdir)
            o_.tmpdir = sanitize(*o_.tmpdir);
        if (o_.backup_dir)
            o_.backup_dir = sanitize(*o_.backup_dir);
    }
    if (ctx_.daemon_excludes && !o_.am_sender) {
        if (o_.tmpdir && daemon_rejects_dest_dir(*o_.tmpdir))
            return err("Your options have been rejected by the server.\n");
        if (o_.backup_dir && daemon_rejects_dest_dir(*o_.backup_dir))
            return err("Your options have been rejected by the server.\n");
    }

    if (!o_.backup_suffix)
        o_.backup_suffix = o_.backup_dir ? "" : "~";
    if (o_.backup_suffix->find('/') != std::string::npos)
        return err("--suffix cannot contain slashes: " + *o_.backup_suffix + "\n");
    if (o_.backup_dir) {
        o_.make_backups = 1; // --backup-dir implies --backup
        std::string_view bd = *o_.backup_dir;
        while (bd.size() >= 2 && bd[0] == '.' && bd[1] == '/')
            bd.remove_prefix(2);
        if (bd == ".")
            bd = {};
        std::string dir(bd);
        // Upstream copies into a MAXPATHLEN buffer and insists on 128 bytes to spare.
        if (dir.size() > 4096 - 128)
            return err("the --backup-dir path is WAY too long.\n");
        o_.backup_dir_len = static_cast<int>(dir.size());
        if (dir.empty()) {
            o_.backup_dir_len = -1;
            o_.backup_dir.reset();
        } else {
            if (dir.back() != '/') {
                dir.push_back('/');
                ++o_.backup_dir_len;
            }
            o_.backup_dir = dir;
        }
    }
    if (o_.backup_dir) {
        // No suffix needed.
    } else if (o_.backup_suffix->empty() && (!o_.am_server || !o_.am_sender)) {
        return err(std::string("--suffix cannot be empty ")
                   + (o_.backup_dir_len < 0 ? "when --backup-dir is the same as the dest dir"
                                            : "without a --backup-dir")
                   + "\n");
    } else if (o_.make_backups && o_.delete_mode && !o_.delete_excluded && !o_.am_server) {
        o_.filters.push_back({FilterOption::Kind::Filter, "P *" + *o_.backup_suffix});
    }

    if (o_.make_backups && !o_.backup_dir)
        o_.omit_dir_times = -1; // implied, so not sent to a sender

    if (o_.stdout_format) {
        if (o_.am_server && log_format_has(o_.stdout_format, 'I'))
            o_.stdout_format_has_i = 2;
        else if (log_format_has(o_.stdout_format, 'i'))
            o_.stdout_format_has_i = o_.itemize_changes | 1;
        if (!log_format_has(o_.stdout_format, 'b') && !log_format_has(o_.stdout_format, 'c')
            && !log_format_has(o_.stdout_format, 'C'))
            o_.log_before_transfer = !o_.am_server;
    } else if (o_.itemize_changes) {
        o_.stdout_format = "%i %n%L";
        o_.stdout_format_has_i = o_.itemize_changes;
        o_.log_before_transfer = !o_.am_server;
    }

    if (o_.do_progress && !o_.am_server) {
        if (!o_.log_before_transfer && o_.info_levels[6] == 0) // INFO_NAME
            (void)parse_output_words(info_words(), o_.info_levels, &o_.info_priority, "name",
                                     kDefaultPriority, true);
        (void)parse_output_words(info_words(), o_.info_levels, &o_.info_priority,
                                 "FLIST2,PROGRESS", kDefaultPriority, true);
    }

    if (o_.dry_run)
        o_.do_xfers = 0;

    if (o_.info_levels[6] >= 1 && !o_.stdout_format) { // INFO_GTE(NAME, 1)
        o_.stdout_format = "%n%L";
        o_.log_before_transfer = !o_.am_server;
    }
    if (o_.stdout_format_has_i || log_format_has(o_.stdout_format, 'o'))
        o_.stdout_format_has_o_or_i = 1;

    if (o_.append_mode) {
        if (o_.whole_file > 0)
            return err("--append cannot be used with --whole-file\n");
        if (refused_.inplace)
            return refuse(*refused_.inplace);
        o_.inplace = 1;
    }
    if (o_.write_devices) {
        if (refused_.inplace)
            return refuse(*refused_.inplace);
        o_.inplace = 1;
    }

    if (o_.delay_updates && !o_.partial_dir)
        o_.partial_dir = ".~tmp~";

    if (o_.inplace) {
        if (o_.partial_dir) {
            return err(std::string("--") + (o_.append_mode ? "append" : "inplace")
                       + " cannot be used with --"
                       + (o_.delay_updates ? "delay-updates" : "partial-dir") + "\n");
        }
        // --inplace implies --partial for refusal purposes only.
        if (refused_.partial)
            return refuse(*refused_.partial);
        o_.keep_partial = 0;
    } else if (o_.partial_dir) {
        if (!o_.partial_dir->empty()) {
            auto c = clean_fname(*o_.partial_dir, kCfnCollapseDotDotDirs);
            o_.partial_dir = c ? *c : *o_.partial_dir;
        }
        if (o_.partial_dir->empty() || *o_.partial_dir == ".")
            o_.partial_dir.reset();
        if (!o_.partial_dir && refused_.partial)
            return refuse(*refused_.partial);
        o_.keep_partial = 1;
    }

    if (o_.files_from) {
        // A daemon accepts "." plus one path at most.
        if (args.size() > 2)
            return exit_now("rsync: --files-from with more than one path (usage shown)", 1);
        if (*o_.files_from == "-") {
            o_.files_from_socket = true;
        } else if (names_remote_host(*o_.files_from)) {
            return err("The --files-from sent to the server cannot specify a host.\n");
        } else {
            std::string path = ctx_.sanitize_paths ? sanitize(*o_.files_from) : *o_.files_from;
            if (ctx_.daemon_excludes) {
                if (daemon_rejects_option_path(path, false))
                    return err("Your options have been rejected by the server.\n");
                // Upstream cleans the module-relative part in place, so the cleaned name is
                // also the one it opens.
                const std::size_t keep = (!path.empty() && path[0] == '/')
                    ? std::min(ctx_.module_dirlen, path.size()) : 0;
                auto tail =
                    clean_fname(std::string_view(path).substr(keep), kCfnCollapseDotDotDirs);
                if (tail)
                    path = path.substr(0, keep) + *tail;
            }
            if (ctx_.open_files_from) {
                if (auto e = ctx_.open_files_from(path))
                    return err("failed to open files-from file " + path + ": " + *e + "\n");
            }
            o_.files_from = path;
            o_.files_from_path = path;
        }
    }

    // A server trusts what its client tells it about the sender's side.
    if (o_.trust_sender || o_.am_server || o_.read_batch)
        o_.trust_sender_args = o_.trust_sender_filter = 1;
    else if (o_.old_style_args)
        o_.trust_sender_args = 1;

    o_.args = args;
    o_.paths.assign(args.begin() + (args.empty() ? 0 : 1), args.end());
    return std::nullopt;
}

ServerOptions initial_options(const ServerParseContext& ctx)
{
    ServerOptions o;
    o.am_server = ctx.am_server ? 1 : 0;
    o.am_root = ctx.am_root;
    o.protocol_version = ctx.protocol_version;
    o.tmpdir = ctx.module_temp_dir;
    return o;
}

} // namespace

OptionParseResult parse_server_args(const std::vector<std::string>& args, const RefuseSet& refused,
                                    const ServerParseContext& ctx)
{
    ServerOptions o = initial_options(ctx);
    Parser parser(args, refused, ctx, o);
    return parser.run();
}

OptionParseResult parse_server_args(const std::vector<std::string>& args, const RefuseSet& refused,
                                    int protocol_version)
{
    ServerParseContext ctx;
    ctx.protocol_version = protocol_version;
    return parse_server_args(args, refused, ctx);
}

OptionParseResult parse_secluded_args(const std::vector<std::string>& args,
                                      const RefuseSet& refused, const ServerParseContext& ctx,
                                      const OptionParseResult& first)
{
    if (!first.ok || !first.wants_second_batch)
        throw std::invalid_argument("parse_secluded_args: the first batch did not ask for one");
    ServerOptions o = first.options;
    o.protect_args = 2;
    Parser parser(args, refused, ctx, o);
    OptionParseResult r = parser.run();
    r.log_lines.insert(r.log_lines.begin(), first.log_lines.begin(), first.log_lines.end());
    return r;
}

} // namespace ocr::daemon
