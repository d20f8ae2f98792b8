// SPDX-License-Identifier: MIT
// Fuzz target: a user.rsync.%stat record (bytes anyone who can write into a "fake super"
// module can set), checked against glibc's sscanf and through set_stat_xattr's decision.
#include "transfer/stat_xattr.hpp"

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace {

[[noreturn]] void fail()
{
    __builtin_trap();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace ocr::transfer;
    const std::string_view value(reinterpret_cast<const char*>(data), size);
    const auto rec = parse_stat_xattr(value);

    // Oracle: what upstream's sscanf("%o %d,%d %d:%d") makes of the same C string.
    const std::string shown = stat_xattr_shown(value);
    if (shown.size() > kStatXattrMaxLen || shown.find('\0') != std::string::npos)
        fail();
    unsigned mode = 0;
    int maj = 0;
    int min = 0;
    int uid = 0;
    int gid = 0;
    const bool ok = std::sscanf(shown.c_str(), "%o %d,%d %d:%d", &mode, &maj, &min, &uid, &gid) == 5;
    if (ok != rec.has_value())
        fail();
    if (!rec)
        return 0;
    if (rec->mode != mode || rec->rdev_major != static_cast<std::uint32_t>(maj) ||
        rec->rdev_minor != static_cast<std::uint32_t>(min) || rec->uid != static_cast<std::uint32_t>(uid) ||
        rec->gid != static_cast<std::uint32_t>(gid))
        fail();

    // What a push would do with an entry carrying this record: a record it writes must read
    // back as exactly what was meant, and an up-to-date record is never rewritten.
    struct stat real{};
    real.st_mode = S_IFREG | 0600;
    overlay_stat_xattr(real, *rec);
    real.st_mode = S_IFREG | (rec->mode & 0777);
    const auto plan = plan_stat_xattr(real, rec, rec->mode, real.st_rdev, rec->uid, rec->gid);
    const bool device = S_ISCHR(rec->mode) || S_ISBLK(rec->mode);
    const bool normal = (rec->mode & ~static_cast<std::uint32_t>(S_IFMT | 07777)) == 0 &&
                        (device || (rec->rdev_major == 0 && rec->rdev_minor == 0));
    if (normal && plan.action == StatXattrPlan::Action::Write)
        fail();
    if (plan.action == StatXattrPlan::Action::Write) {
        const auto back = parse_stat_xattr(plan.value);
        if (!back || format_stat_xattr(*back) != plan.value)
            fail();
        if (plan.value.size() > kStatXattrMaxLen)
            fail();
    }
    return 0;
}
