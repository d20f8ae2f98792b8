// SPDX-License-Identifier: MIT
// Fuzz target: a whole push's receiving side (generator and receiver threads) fed arbitrary
// client bytes (file lists, sub-lists, file data, messages) over a socketpair, writing into
// a temp module that is reset before every input.
#include "protocol/mux.hpp"
#include "protocol/protocol_error.hpp"
#include "transfer/filter_daemon.hpp"
#include "transfer/filter_source.hpp"
#include "transfer/push_engine.hpp"
#include "transfer/receiver.hpp"
#include "support/session_socket.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>

namespace {

using namespace ocr;

constexpr std::int64_t kOldTime = 1500000000;

// The bytes tests/unit/transfer/push_engine_test.cpp uses for its bases, so that seeds
// recorded there replay the same requests here.
std::string pseudo_random(std::size_t n, std::uint32_t seed)
{
    std::string s(n, '\0');
    for (auto& c : s) {
        seed = seed * 1103515245u + 12345u;
        c = static_cast<char>(seed >> 16);
    }
    return s;
}

// A basis file dated long ago, so that the client's newer files always differ from it.
void put_old_file(const std::string& path, std::string_view content)
{
    test::put_file(path, content);
    const timespec ts[2] = {{kOldTime, 0}, {kOldTime, 0}};
    ::utimensat(AT_FDCWD, path.c_str(), ts, 0);
}

// The module directory: emptied and given the same few bases before every input.
const std::string& reset_module()
{
    static const std::string root = [] {
        char tmpl[] = "/tmp/ocr_fuzz_receiver_XXXXXX";
        if (!::mkdtemp(tmpl))
            std::abort();
        return std::string(tmpl);
    }();
    static const std::string data_bin = pseudo_random(120000, 11);
    static const std::string x_bin = pseudo_random(50000, 21);
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(root, ec)) {
        // Whatever the input made, make it removable first.
        std::filesystem::permissions(e.path(), std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::add | std::filesystem::perm_options::nofollow,
                                     ec);
        std::filesystem::remove_all(e.path(), ec);
    }
    put_old_file(root + "/data.bin", data_bin);
    put_old_file(root + "/x.bin", x_bin);
    put_old_file(root + "/old.txt", "old\n");
    return root;
}

} // namespace

// Byte 0: bits 0-2 protocol 28..32 for values 0-4; 5, 6 and 7 are protocol 32 with
// --inplace, --append-verify and --partial-dir respectively; bit 3 dry run, bit 4 -c,
// bit 5 -W, bit 6 -I with -H, bit 7 a module exclude of "*.secret". The rest is what the client sends (the
// unit test's client writes seeds in this form; MSG_DATA frames are part of the bytes
// from protocol 30).
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1 || size > 1u << 18)
        return 0;
    const std::uint8_t sel = data[0];
    const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
    const int variant = sel & 7;
    const int protocol = variant < 5 ? 28 + variant : 32;

    transfer::ReceiverOptions opt;
    opt.flist.protocol = protocol;
    opt.flist.varint_flags = protocol >= 30;
    opt.flist.inc_recurse = protocol >= 30;
    opt.flist.use_safe_inc_flist = protocol >= 31;
    opt.flist.recurse = true;
    opt.flist.preserve_links = true;
    opt.flist.checksum_len = 16;
    opt.flist.always_checksum = (sel & 0x10) != 0;
    opt.flist.sanitize_paths = true;
    opt.xfer_checksum = {protocol::ChecksumKind::Md5, protocol::SeedPlacement::Prepend};
    opt.file_checksum = protocol::ChecksumKind::Md5;
    opt.checksum_seed = 0x2468ace;
    opt.dest_given = true;
    opt.dest_path = ".";
    opt.recurse = true;
    opt.preserve_perms = true;
    opt.preserve_mtimes = true;
    opt.preserve_links = true;
    opt.dry_run = (sel & 0x08) != 0;
    opt.always_checksum = (sel & 0x10) != 0;
    opt.whole_file = (sel & 0x20) != 0 && variant != 6; // upstream refuses --append with -W
    opt.ignore_times = (sel & 0x40) != 0;
    opt.flist.preserve_hard_links = (sel & 0x40) != 0;
    if (variant == 5)
        opt.inplace = true;
    if (variant == 6) {
        opt.inplace = true;
        opt.append_mode = 2;
    }
    if (variant == 7) {
        opt.keep_partial = true;
        opt.partial_dir = ".rsync-partial";
    }
    opt.max_alloc = std::size_t{64} << 20;
    opt.umask = 022;
    // Nothing here should wait for the timeout; it only bounds a hang.
    opt.io_timeout = std::chrono::seconds(10);

    const std::string& root = reset_module();
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        std::abort();
    // Larger buffers than any input, so the whole input is queued before the engine runs.
    const int bufsize = 1 << 20;
    ::setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
    ::setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
    test::send_all(sv[1], body);
    ::shutdown(sv[1], SHUT_WR);
    std::thread drainer(test::drain, sv[1]);

    {
        transfer::Connection conn({sv[0], std::chrono::seconds(10), 0, "receiver", {}});
        conn.start_mux_out();
        if (protocol >= 30)
            conn.start_mux_in();
        transfer::Reporter report(conn, protocol, "generator", {});
        report.set_can_send(true);
        UniqueFd root_fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        transfer::ModuleWriter writer(root_fd.get());
        transfer::NoFilterFiles no_files;
        transfer::FilterOptions fo;
        fo.role = transfer::FilterSide::Receiver;
        fo.protocol_version = protocol;
        fo.who = "receiver";
        transfer::FilterSet filters(fo, no_files);
        try {
            if (sel & 0x80)
                transfer::load_module_filters(filters, transfer::ModuleFilterConfig{"", "", "", "", "*.secret", root});
            transfer::PushEngine::Services services{.conn = conn,
                                                    .fd = sv[0],
                                                    .writer = writer,
                                                    .report = report,
                                                    .filters = filters,
                                                    .module_name = "mod"};
            transfer::PushEngine engine(opt, std::move(services));
            (void)engine.run(transfer::WireFilterParams{});
        } catch (const protocol::ProtocolError&) {
            // Includes FilterError: a peer's bad input ends the session the same way.
        } catch (const transfer::PushPeerExit&) {
        }
        // Anything else (logic_error, out_of_range, ...) escapes and is reported as a crash.
    }
    ::shutdown(sv[0], SHUT_RDWR);
    drainer.join();
    ::close(sv[0]);
    ::close(sv[1]);
    return 0;
}
