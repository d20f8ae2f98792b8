// SPDX-License-Identifier: MIT
// Fuzz target: bytes as an rsyncd.conf, as a FileBundle encoding and as a %VAR% value.
#include "daemon/config.hpp"
#include "daemon/config_validate.hpp"
#include "daemon/var_expand.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace ocr::daemon;

[[noreturn]] void fail()
{
    __builtin_trap();
}

class EverythingExists final : public ValidationEnvironment {
public:
    bool is_dir(const std::string& path) const override { return path.size() % 2 == 0; }
    bool user_exists(const std::string& name) const override { return name.size() % 2 == 0; }
    bool group_exists(const std::string& name) const override { return name.size() % 3 == 0; }
    bool running_as_root() const override { return true; }
};

LoadOptions options()
{
    LoadOptions o;
    o.config_path = "/etc/rsyncd.conf";
    o.dparams = {{"max verbosity", "3"}, {"pidfile", "/run/x.pid"}};
    o.cli_modules = {{"cli", "/srv/cli", true}};
    o.environment = {{"HOME", "/root"}, {"N", "7"}};
    return o;
}

void load_and_check(FileSource& src)
{
    LoadOptions opts = options();
    LoadResult r = load_config(opts, src);
    if (!r.config)
        return;
    (void)validate_config(*r.config, EverythingExists{});
    for (const auto& m : r.config->modules()) {
        if (r.config->find_module(m.name) == nullptr)
            fail();
        (void)r.config->secrets_path(m);
    }
    // Replaying what was read must give the same result.
    auto bundle = FileBundle::deserialize(r.config->bundle().serialize());
    if (!bundle)
        fail();
    BundleFileSource replay(*bundle);
    LoadResult again = load_config(opts, replay);
    if (!again.config || !(*again.config == *r.config) || !(again.problems == r.problems))
        fail();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view in(reinterpret_cast<const char*>(data), size);

    // 1. The bytes as the config file; "/d" lists files holding the same bytes, so
    //    &include / &merge directives in the input recurse into it.
    {
        FileBundle files;
        const std::string text(in);
        files.record_read("/etc/rsyncd.conf", FileData{text, 0100644, 0, false});
        files.record_is_dir("/d", true);
        files.record_list("/d", std::vector<std::string>{"a.conf", "b.inc"});
        files.record_read("/d/a.conf", FileData{text, 0100644, 0, false});
        files.record_read("/d/b.inc", FileData{text, 0100644, 0, false});
        files.record_read("/etc/motd", FileData{"motd\n", 0100644, 0, false});
        files.record_read("/etc/s", FileData{"u:p\n", 0100604, 5, false});
        BundleFileSource src(std::move(files));
        load_and_check(src);
    }

    // 2. The bytes as a FileBundle encoding: the decoder must reject or accept them, and
    //    what it accepts must re-encode to the same bytes (the encoding is canonical).
    if (auto bundle = FileBundle::deserialize(in)) {
        if (bundle->serialize() != in)
            fail();
        BundleFileSource src(*bundle);
        load_and_check(src);
    }

    // 3. The bytes as a value to expand.
    const VarLookup lookup = [](std::string_view name) -> std::optional<std::string> {
        if (name.empty() || name.size() > 8)
            return std::nullopt;
        return std::string(name.size() * 300, name.front());
    };
    try {
        (void)expand_vars(in, lookup);
    } catch (const VarExpansionTooLong&) {
    }
    try {
        (void)expand_vars_for_shell(in, lookup);
    } catch (const VarExpansionTooLong&) {
    }
    return 0;
}
