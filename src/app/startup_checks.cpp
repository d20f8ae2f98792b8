// SPDX-License-Identifier: MIT
#include "app/startup_checks.hpp"

#include <string_view>

namespace ocr::app {
namespace {

void check(std::vector<daemon::Problem>& out, const daemon::ModuleSettings& m, std::string_view param,
           bool set, const daemon::SourceLocation& fallback)
{
    if (!set)
        return;
    const daemon::SourceLocation* where = m.where_set(param);
    out.push_back(daemon::Problem{where ? *where : fallback,
                                  "\"" + std::string(param) + "\" is not supported by this version of ocrsyncd",
                                  daemon::Severity::Error});
}

} // namespace

std::vector<daemon::Problem> unsupported_settings(const daemon::Config& config)
{
    std::vector<daemon::Problem> out;
    const auto& g = config.globals();
    if (!g.daemon_chroot.empty()) {
        const daemon::SourceLocation* where = g.where_set("daemon chroot");
        out.push_back(daemon::Problem{where ? *where : daemon::SourceLocation{},
                                      "\"daemon chroot\" is not supported by this version of ocrsyncd",
                                      daemon::Severity::Error});
    }
    for (const daemon::ModuleSettings& m : config.modules()) {
        check(out, m, "early exec", !m.early_exec.empty(), m.defined_at);
        check(out, m, "pre-xfer exec", !m.pre_xfer_exec.empty(), m.defined_at);
        check(out, m, "post-xfer exec", !m.post_xfer_exec.empty(), m.defined_at);
        check(out, m, "name converter", !m.name_converter.empty(), m.defined_at);
        check(out, m, "charset", !m.charset.empty(), m.defined_at);
    }
    return out;
}

} // namespace ocr::app
