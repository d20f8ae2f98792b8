// SPDX-License-Identifier: MIT
// --chmod, "incoming chmod" and "outgoing chmod" rules: their parser and how they change a mode.
#include "transfer/chmod_rules.hpp"

#include <stdexcept>
#include <sys/stat.h>

namespace ocr::transfer {
namespace {

// Upstream rsync.h CHMOD_BITS: setuid, setgid, sticky and the nine permission bits.
constexpr std::int32_t kChmodBits = 07777;

// The setuid/setgid/sticky bits that "=u"-style copies clear for the given targets.
std::int32_t special_bits_for(std::int32_t where) noexcept
{
    std::int32_t bits = 0;
    if (where & 0100)
        bits |= S_ISUID;
    if (where & 0010)
        bits |= S_ISGID;
    if (where & 0001)
        bits |= S_ISVTX;
    return bits;
}

// The state of one item while its characters are read.
struct ItemState {
    std::int32_t where = 0;   // 0111-style mask of u, g, o
    std::int32_t what = 0;    // rwx as 0..7, or the whole octal number
    std::int32_t topbits = 0; // the setuid/setgid bits "s" would mean for this "where"
    std::int32_t topoct = 0;  // setuid/setgid/sticky bits requested
    std::int32_t copybits = 0;
    int op = 0;               // 0 none, else 1 + ChmodRule::Op
    bool x_keep = false;
    bool dirs_only = false;
    bool files_only = false;
};

constexpr int kOpNone = 0;

int op_code(ChmodRule::Op op) noexcept
{
    return 1 + static_cast<int>(op);
}

ChmodRule::Op op_of(int code) noexcept
{
    return static_cast<ChmodRule::Op>(code - 1);
}

ChmodRule finish_item(const ItemState& st, std::int32_t umask_bits) noexcept
{
    // Upstream: chmod.c:parse_chmod, the end-of-item conversion into AND/OR masks.
    const bool where_given = st.where != 0;
    const std::int32_t where = where_given ? st.where : 0111;
    // Without "ugoa" the change acts like chmod(1) without them: the umask filters it.
    const std::int32_t bits = where_given ? where * st.what : (where * st.what) & ~umask_bits;
    const std::int32_t copy_and = where_given ? kChmodBits : (kChmodBits & ~umask_bits);

    ChmodRule r;
    r.op = op_of(st.op);
    r.x_keep = st.x_keep;
    r.dirs_only = st.dirs_only;
    r.files_only = st.files_only;
    switch (r.op) {
    case ChmodRule::Op::Add:
        r.mode_and = kChmodBits;
        r.mode_or = bits + st.topoct;
        break;
    case ChmodRule::Op::Sub:
        r.mode_and = kChmodBits - bits - st.topoct;
        r.mode_or = 0;
        break;
    case ChmodRule::Op::Eq:
        r.mode_and = kChmodBits - where * 7 - (st.topoct ? st.topbits : 0)
            - (st.copybits ? special_bits_for(where) : 0);
        r.mode_or = bits + st.topoct;
        break;
    case ChmodRule::Op::Set:
        // A number replaces every permission bit; st.where is 1 so bits == the number.
        r.mode_and = 0;
        r.mode_or = bits;
        r.copy_and = kChmodBits;
        return r;
    }
    r.copy_src = st.copybits;
    r.copy_dst = where;
    r.copy_and = copy_and;
    return r;
}

bool is_octal_digit(char c) noexcept
{
    return c >= '0' && c <= '7';
}

// The part before the operator: D/F, u/g/o/a, then +, -, = or the first octal digit.
// Returns false on a character that cannot start or continue an item.
bool read_first_half(char c, ItemState& st, bool& octal, bool& second) noexcept
{
    switch (c) {
    case 'D':
        if (st.files_only)
            return false;
        st.dirs_only = true;
        return true;
    case 'F':
        if (st.dirs_only)
            return false;
        st.files_only = true;
        return true;
    case 'u':
        st.where |= 0100;
        st.topbits |= S_ISUID;
        return true;
    case 'g':
        st.where |= 0010;
        st.topbits |= S_ISGID;
        return true;
    case 'o':
        st.where |= 0001;
        return true;
    case 'a':
        // Like chmod(1), "a+s" sets both setuid and setgid.
        st.where |= 0111;
        st.topbits |= S_ISUID | S_ISGID;
        return true;
    case '+':
        st.op = op_code(ChmodRule::Op::Add);
        second = true;
        return true;
    case '-':
        st.op = op_code(ChmodRule::Op::Sub);
        second = true;
        return true;
    case '=':
        st.op = op_code(ChmodRule::Op::Eq);
        second = true;
        return true;
    default:
        if (is_octal_digit(c) && st.where == 0) {
            st.op = op_code(ChmodRule::Op::Set);
            st.where = 1;
            st.what = c - '0';
            octal = true;
            return true;
        }
        return false;
    }
}

// The part after the operator: permission letters, or a single u/g/o to copy from.
bool read_second_half(char c, ItemState& st) noexcept
{
    switch (c) {
    case 'r':
        st.what |= 4;
        return st.copybits == 0;
    case 'w':
        st.what |= 2;
        return st.copybits == 0;
    case 'X':
        st.x_keep = true;
        st.what |= 1;
        return st.copybits == 0;
    case 'x':
        st.what |= 1;
        return st.copybits == 0;
    case 's':
        // Without "ugoa" (or with only "o"), "s" means setuid.
        st.topoct = st.topbits ? (st.topoct | st.topbits) : S_ISUID;
        return st.copybits == 0;
    case 't':
        st.topoct |= S_ISVTX;
        return st.copybits == 0;
    case 'u':
    case 'g':
    case 'o': {
        const bool ok = st.what == 0 && st.topoct == 0 && st.copybits == 0;
        st.copybits = c == 'u' ? 0100 : c == 'g' ? 0010 : 0001;
        return ok;
    }
    default:
        return false;
    }
}

std::int32_t copied_bits(std::int32_t mode, const ChmodRule& r) noexcept
{
    // Upstream: chmod.c:mode_copy_bits.
    std::int32_t bits = 0;
    if (r.copy_src & 0100)
        bits |= (mode >> 6) & 7;
    if (r.copy_src & 0010)
        bits |= (mode >> 3) & 7;
    if (r.copy_src & 0001)
        bits |= mode & 7;
    return (r.copy_dst * bits) & r.copy_and;
}

} // namespace

std::optional<ChmodRules> ChmodRules::parse(std::string_view spec, std::uint32_t umask)
{
    // Upstream: chmod.c:parse_chmod. Every item needs an operator; an error anywhere
    // rejects the whole spec.
    const auto umask_bits = static_cast<std::int32_t>(umask & kChmodBits);
    ChmodRules out;
    ItemState st;
    bool octal = false;
    bool second = false;
    for (std::size_t i = 0;; ++i) {
        const bool at_end = i >= spec.size();
        const char c = at_end ? '\0' : spec[i];
        if (at_end || c == ',') {
            if (st.op == kOpNone)
                return std::nullopt;
            out.rules_.push_back(finish_item(st, umask_bits));
            if (at_end)
                return out;
            st = ItemState{};
            octal = second = false;
            continue;
        }
        bool ok = false;
        if (octal) {
            ok = is_octal_digit(c);
            if (ok) {
                st.what = st.what * 8 + (c - '0');
                ok = st.what <= kChmodBits;
            }
        } else if (second) {
            ok = read_second_half(c, st);
        } else {
            ok = read_first_half(c, st, octal, second);
        }
        if (!ok)
            return std::nullopt;
    }
}

bool ChmodRules::append(std::string_view spec, std::uint32_t umask)
{
    auto parsed = parse(spec, umask);
    if (!parsed)
        return false;
    append(*parsed);
    return true;
}

void ChmodRules::append(const ChmodRules& other)
{
    rules_.insert(rules_.end(), other.rules_.begin(), other.rules_.end());
}

std::uint32_t ChmodRules::tweak_mode(std::uint32_t mode_in) const noexcept
{
    // Upstream: chmod.c:tweak_mode. "X" looks at the mode as it was before any rule.
    auto mode = static_cast<std::int32_t>(mode_in & kChmodBits);
    const std::uint32_t non_perm = mode_in & ~static_cast<std::uint32_t>(kChmodBits);
    const bool was_executable = (mode_in & 0111) != 0;
    const bool is_dir = S_ISDIR(non_perm);
    for (const ChmodRule& r : rules_) {
        if ((r.dirs_only && !is_dir) || (r.files_only && is_dir))
            continue;
        const std::int32_t copy = copied_bits(mode, r);
        mode &= r.mode_and;
        if (r.x_keep && !was_executable && !is_dir)
            mode |= r.mode_or & ~0111;
        else
            mode |= r.mode_or;
        if (r.op == ChmodRule::Op::Sub)
            mode &= kChmodBits - copy;
        else
            mode |= copy;
    }
    return static_cast<std::uint32_t>(mode & kChmodBits) | non_perm;
}

std::uint32_t ChmodRules::apply_to_entry(std::uint32_t mode) const noexcept
{
    if (rules_.empty() || mode == 0 || S_ISLNK(mode))
        return mode;
    return tweak_mode(mode);
}

SessionChmod combine_session_chmod(const std::vector<std::string>& client_specs,
                                   std::string_view module_spec, bool am_sender,
                                   std::uint32_t umask)
{
    // Upstream: clientserver.c:rsync_module appends the module's rules to the client's
    // list (parse_chmod's append), so they run last and win.
    SessionChmod s;
    for (const std::string& spec : client_specs)
        if (!s.all.append(spec, umask))
            throw std::invalid_argument("invalid --chmod spec reached the transfer: " + spec);
    if (module_spec.empty())
        return s;
    auto module_rules = ChmodRules::parse(module_spec, umask);
    if (!module_rules) {
        s.log_line = std::string("Invalid \"") + (am_sender ? "outgo" : "incom") + "ing chmod\" directive: "
            + std::string(module_spec);
        return s;
    }
    s.all.append(*module_rules);
    s.module_only = std::move(*module_rules);
    return s;
}

} // namespace ocr::transfer
