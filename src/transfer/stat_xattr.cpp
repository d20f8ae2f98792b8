// SPDX-License-Identifier: MIT
// user.rsync.%stat: the text of a record, a bounded parser of it and set_stat_xattr's decision.
#include "transfer/stat_xattr.hpp"

#include "protocol/protocol_error.hpp"

#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>

namespace ocr::transfer {
namespace {

constexpr mode_t kChmodBits = 07777;    // upstream CHMOD_BITS
constexpr mode_t kAccessPerms = 0777;   // upstream ACCESSPERMS

// The C locale's isspace(), which is what scanf skips.
bool is_space(char c) noexcept
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// A cursor over the value up to its first NUL (sscanf sees a C string).
class Scanner {
public:
    explicit Scanner(std::string_view s) noexcept : s_(s) {}

    void skip_space() noexcept
    {
        while (pos_ < s_.size() && is_space(s_[pos_]))
            ++pos_;
    }

    bool literal(char c) noexcept
    {
        if (pos_ < s_.size() && s_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }

    // One integer conversion: white space, an optional sign and at least one digit of
    // `base` (8 or 10). The magnitude saturates at ULLONG_MAX-ish instead of overflowing;
    // `overflow` says it did.
    bool number(unsigned base, bool& negative, unsigned long long& magnitude, bool& overflow) noexcept
    {
        skip_space();
        negative = false;
        if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) {
            negative = s_[pos_] == '-';
            ++pos_;
        }
        magnitude = 0;
        overflow = false;
        std::size_t digits = 0;
        while (pos_ < s_.size()) {
            const char c = s_[pos_];
            if (c < '0' || c > static_cast<char>('0' + base - 1))
                break;
            const auto d = static_cast<unsigned>(c - '0');
            if (magnitude > (ULLONG_MAX - d) / base)
                overflow = true;
            else
                magnitude = magnitude * base + d;
            ++pos_;
            ++digits;
        }
        return digits > 0;
    }

private:
    std::string_view s_;
    std::size_t pos_ = 0;
};

// %o: strtoul's value (negation wraps, overflow gives ULONG_MAX) cut to unsigned int.
bool scan_octal(Scanner& in, std::uint32_t& out) noexcept
{
    bool neg = false;
    bool overflow = false;
    unsigned long long mag = 0;
    if (!in.number(8, neg, mag, overflow))
        return false;
    unsigned long v = 0;
    if (overflow || mag > ULONG_MAX)
        v = ULONG_MAX;
    else
        v = neg ? 0UL - static_cast<unsigned long>(mag) : static_cast<unsigned long>(mag);
    out = static_cast<std::uint32_t>(v);
    return true;
}

// %d: strtol's value (saturating at LONG_MIN/LONG_MAX) cut to int, kept as its 32 bits.
bool scan_decimal(Scanner& in, std::uint32_t& out) noexcept
{
    bool neg = false;
    bool overflow = false;
    unsigned long long mag = 0;
    if (!in.number(10, neg, mag, overflow))
        return false;
    long v = 0;
    constexpr auto kMaxNeg = static_cast<unsigned long long>(LONG_MAX) + 1;
    if (neg)
        v = (overflow || mag > kMaxNeg) ? LONG_MIN : (mag == kMaxNeg ? LONG_MIN : -static_cast<long>(mag));
    else
        v = (overflow || mag > static_cast<unsigned long long>(LONG_MAX)) ? LONG_MAX : static_cast<long>(mag);
    out = static_cast<std::uint32_t>(static_cast<unsigned long>(v));
    return true;
}

std::string_view up_to_nul(std::string_view value) noexcept
{
    if (value.size() > kStatXattrMaxLen)
        value = value.substr(0, kStatXattrMaxLen);
    const auto nul = value.find('\0');
    return nul == std::string_view::npos ? value : value.substr(0, nul);
}

} // namespace

std::string format_stat_xattr(const StatXattr& x)
{
    // Upstream: xattrs.c:set_stat_xattr (to_wire_mode changes nothing on Linux).
    std::array<char, 64> buf{};
    const int n = std::snprintf(buf.data(), buf.size(), "%o %u,%u %u:%u", static_cast<unsigned>(x.mode),
                                static_cast<unsigned>(x.rdev_major), static_cast<unsigned>(x.rdev_minor),
                                static_cast<unsigned>(x.uid), static_cast<unsigned>(x.gid));
    return std::string(buf.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
}

std::optional<StatXattr> parse_stat_xattr(std::string_view value) noexcept
{
    // Upstream: xattrs.c:get_stat_xattr, sscanf "%o %d,%d %d:%d" (a blank in the format
    // skips any white space; ',' and ':' must follow their number directly).
    Scanner in(up_to_nul(value));
    StatXattr x;
    if (!scan_octal(in, x.mode))
        return std::nullopt;
    in.skip_space();
    if (!scan_decimal(in, x.rdev_major) || !in.literal(','))
        return std::nullopt;
    if (!scan_decimal(in, x.rdev_minor))
        return std::nullopt;
    in.skip_space();
    if (!scan_decimal(in, x.uid) || !in.literal(':'))
        return std::nullopt;
    if (!scan_decimal(in, x.gid))
        return std::nullopt;
    return x;
}

std::string stat_xattr_shown(std::string_view value)
{
    return std::string(up_to_nul(value));
}

StatXattrLookup read_stat_xattr(int fd)
{
    StatXattrLookup out;
    std::array<char, kStatXattrMaxLen + 1> buf{};
    const ssize_t n = ::fgetxattr(fd, kStatXattrName, buf.data(), kStatXattrMaxLen);
    if (n < 0) {
        if (errno == ENODATA || errno == ENOTSUP)
            return out;
        out.result = StatXattrLookup::Result::Failed;
        out.err = errno;
        return out;
    }
    const std::string_view value(buf.data(), static_cast<std::size_t>(n));
    if (auto rec = parse_stat_xattr(value)) {
        out.result = StatXattrLookup::Result::Found;
        out.record = *rec;
    } else {
        out.result = StatXattrLookup::Result::Corrupt;
        out.raw.assign(value);
    }
    return out;
}

void throw_corrupt_stat_xattr(const std::string& full_name, std::string_view raw)
{
    throw protocol::ProtocolError(protocol::ExitCode::FileIo,
                                  std::string("Corrupt ") + kStatXattrName + " xattr attached to " + full_name +
                                      ": \"" + stat_xattr_shown(raw) + "\"",
                                  protocol::UpstreamSite{"xattrs.c", 1257});
}

bool stat_xattr_applies(mode_t real_mode) noexcept
{
    return !(S_ISCHR(real_mode) || S_ISBLK(real_mode) || S_ISFIFO(real_mode) || S_ISSOCK(real_mode));
}

void overlay_stat_xattr(struct stat& st, const StatXattr& x) noexcept
{
    st.st_mode = static_cast<mode_t>(x.mode);
    st.st_rdev = makedev(x.rdev_major, x.rdev_minor);
    st.st_uid = static_cast<uid_t>(x.uid);
    st.st_gid = static_cast<gid_t>(x.gid);
}

StatXattrPlan plan_stat_xattr(const struct stat& real, const std::optional<StatXattr>& current, mode_t new_mode,
                              dev_t rdev, std::uint32_t uid, std::uint32_t gid)
{
    // Upstream: xattrs.c:set_stat_xattr.
    StatXattrPlan plan;
    const mode_t real_mode = real.st_mode & (S_IFMT | kChmodBits);
    const mode_t want = new_mode & (S_IFMT | kChmodBits);
    const bool want_device = S_ISCHR(want) || S_ISBLK(want);
    const dev_t want_rdev = want_device ? rdev : 0;
    // The real entry keeps plain permissions the daemon's user can always use; what it
    // should have goes into the record.
    const mode_t usable = (real_mode & S_IFMT) | (want & kAccessPerms) | (S_ISDIR(real_mode) ? 0700 : 0600);
    if (real_mode != usable)
        plan.chmod_to = usable;
    const dev_t real_rdev = (S_ISCHR(real_mode) || S_ISBLK(real_mode)) ? real.st_rdev : 0;
    if (usable == want && real_rdev == want_rdev && real.st_uid == uid && real.st_gid == gid) {
        if (current)
            plan.action = StatXattrPlan::Action::Remove;
        return plan;
    }
    const StatXattr wanted{want, major(want_rdev), minor(want_rdev), uid, gid};
    if (!current || *current != wanted) {
        plan.action = StatXattrPlan::Action::Write;
        plan.value = format_stat_xattr(wanted);
    }
    return plan;
}

} // namespace ocr::transfer
