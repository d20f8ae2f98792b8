// SPDX-License-Identifier: MIT
// Fuzz target: arbitrary bytes as the client's filter list on the wire, then a small walk
// over a fixed module tree whose merge files the rules may name.
#include "protocol/memory_stream.hpp"
#include "transfer/filter_daemon.hpp"
#include "transfer/filter_wire.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace {

using namespace ocr::transfer;

/// A fixed module: a few merge files, one of which names itself.
class ModuleFiles final : public FilterFileSource {
public:
    FilterFileRead read_module_file(std::string_view path, std::size_t max) override
    {
        static const std::map<std::string, std::string, std::less<>> kFiles = {
            {".rsync-filter", "- *.o\n: .inner\n+ keep\n"},
            {"a/.rsync-filter", "- /x\n!\n- y/\n"},
            {"a/.inner", "dir-merge .rsync-filter\n"},
            {"loop", "merge /loop\n- z\n"},
            {".cvsignore", "core !\n tags"},
            {"secret/rules", "- *\n"},
            {"a/b/.rsync-filter", ":n- list\n"},
            {"a/b/list", "one\ntwo\n"},
        };
        const auto it = kFiles.find(path);
        if (it == kFiles.end())
            return {std::nullopt, ENOENT};
        if (it->second.size() > max)
            return {std::nullopt, EFBIG};
        return {it->second, 0};
    }
    FilterFileRead read_operator_file(std::string_view, std::size_t) override
    {
        return {std::nullopt, ENOENT};
    }
};

} // namespace

// Input: one options byte, then the wire bytes (int32 length + text ..., 0).
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1)
        return 0;
    const unsigned flags = data[0];
    FilterOptions opt;
    opt.role = (flags & 1) ? FilterSide::Receiver : FilterSide::Sender;
    opt.delete_excluded = (flags & 2) != 0;
    static constexpr std::array<int, 4> kProtocols = {27, 28, 29, 32};
    opt.protocol_version = kProtocols[(flags >> 2) & 3];
    opt.limits.max_wire_rules = 2000;
    opt.limits.max_rules = 8000;
    WireFilterParams params;
    params.prune_empty_dirs = (flags & 16) != 0;
    params.delete_mode = (flags & 32) != 0;
    params.cvs_exclude = (flags & 64) != 0;

    ModuleFiles files;
    FilterSet set(opt, files);
    ocr::protocol::MemorySource in(
        std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
    try {
        ModuleFilterConfig module;
        module.filter = (flags & 128) ? "- /secret/ : .rsync-filter" : "";
        load_module_filters(set, module);
        recv_filter_list(in, set, params);
        static constexpr std::array<std::string_view, 8> kNames = {
            "x", "a/x", "a/y", "keep", "f.o", "a/b/one", "secret/rules", "core"};
        set.push_dir(".");
        for (const std::string_view n : kNames)
            (void)set.excluded(n, false);
        set.push_dir("a");
        set.push_dir("a/b");
        for (const std::string_view n : kNames) {
            (void)set.excluded(n, true);
            (void)set.excluded(n, NameKind::File, true);
        }
        set.pop_dir();
        set.pop_dir();
        set.pop_dir();
    } catch (const ocr::protocol::ProtocolError&) {
        // FilterError or a short stream: both end a real session cleanly.
    }
    (void)set.take_messages();
    return 0;
}
