// SPDX-License-Identifier: MIT
// Fuzz target: a whole pull's sending side fed arbitrary client bytes (filter list,
// requests, block sums, messages) over a socketpair, serving a small fixed module tree.
#include "protocol/compression.hpp"
#include "protocol/mux.hpp"
#include "protocol/protocol_error.hpp"
#include "transfer/filter_source.hpp"
#include "transfer/sender.hpp"
#include "support/session_socket.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

namespace {

using namespace ocr;

// The module, made once per process: a few small files (one spanning several blocks),
// nested directories and symlinks inside and out of the tree.
const std::string& module_root()
{
    static const std::string root = [] {
        char tmpl[] = "/tmp/ocr_fuzz_sender_XXXXXX";
        if (!::mkdtemp(tmpl))
            std::abort();
        const std::string r = tmpl;
        std::string big;
        for (int i = 0; i < 5000; ++i)
            big.push_back(static_cast<char>((i * 7919) >> 3));
        test::put_file(r + "/a.txt", "hello\n");
        test::put_file(r + "/big.bin", big);
        test::put_file(r + "/empty", "");
        ::mkdir((r + "/sub").c_str(), 0755);
        test::put_file(r + "/sub/c.txt", "c\n");
        ::mkdir((r + "/sub/deeper").c_str(), 0755);
        test::put_file(r + "/sub/deeper/d.txt", "d\n");
        if (::symlink("a.txt", (r + "/link").c_str()) != 0 || ::symlink("/etc", (r + "/out").c_str()) != 0)
            std::abort();
        return r;
    }();
    return root;
}

} // namespace

// Byte 0: bits 0-1 protocol 29..32, bit 2 -c, bit 3 dry run, bit 4 wrap the rest in
// MSG_DATA frames (protocol 30+), bits 5-6 compression, bit 7 --append. The rest is what
// the client sends.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1 || size > 1u << 16)
        return 0;
    const std::uint8_t sel = data[0];
    const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
    const int protocol = 29 + (sel & 3);

    transfer::SenderOptions opt;
    opt.flist.protocol = protocol;
    opt.flist.varint_flags = protocol >= 30;
    opt.flist.inc_recurse = protocol >= 30;
    opt.flist.use_safe_inc_flist = protocol >= 31;
    opt.flist.recurse = true;
    opt.flist.preserve_links = true;
    opt.flist.always_checksum = (sel & 4) != 0;
    opt.flist.checksum_len = 16;
    opt.links.preserve_links = true;
    opt.always_checksum = (sel & 4) != 0;
    opt.dry_run = (sel & 8) != 0;
    opt.xfer_checksum = {protocol::ChecksumKind::Md5, protocol::SeedPlacement::Prepend};
    opt.file_checksum = protocol::ChecksumKind::Md5;
    opt.checksum_seed = 12345;
    static constexpr protocol::Compression kCompressions[] = {protocol::Compression::None, protocol::Compression::Zlib,
                                                              protocol::Compression::Zstd, protocol::Compression::Lz4};
    const protocol::Compression comp = kCompressions[(sel >> 5) & 3];
    if (comp != protocol::Compression::None) {
        const auto setting = protocol::resolve_compression_level(comp, protocol::kCompressLevelUnset);
        opt.compression = setting.compression;
        opt.compress_level = setting.level;
    }
    opt.append_mode = (sel & 0x80) ? 1 : 0;
    opt.recurse = true;
    opt.xfer_dirs = true;
    opt.paths = {"."};

    std::string client_bytes;
    if ((sel & 0x10) && protocol >= 30) {
        for (std::size_t pos = 0; pos < body.size(); pos += 1000)
            client_bytes += protocol::encode_frame(protocol::MsgCode::Data, body.substr(pos, 1000));
    } else {
        client_bytes.assign(body);
    }

    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        std::abort();
    // Larger buffers than any input, so the whole input is queued before the sender runs.
    const int bufsize = 1 << 20;
    ::setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
    ::setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
    test::send_all(sv[1], client_bytes);
    ::shutdown(sv[1], SHUT_WR);
    std::thread drainer(test::drain, sv[1]);

    {
        // A short I/O timeout: nothing here should ever wait for it.
        transfer::Connection conn({sv[0], std::chrono::seconds(5), 0, "sender", {}});
        conn.start_mux_out();
        if (protocol >= 30)
            conn.start_mux_in();
        transfer::Reporter report(conn, protocol, "sender", {});
        report.set_can_send(true);
        transfer::ModuleFs fs(UniqueFd(::open(module_root().c_str(), O_RDONLY | O_DIRECTORY)));
        transfer::NoFilterFiles no_files;
        transfer::FilterOptions fo;
        fo.role = transfer::FilterSide::Sender;
        fo.protocol_version = protocol;
        fo.who = "sender";
        transfer::FilterSet filters(fo, no_files);
        transfer::Sender::Services services{conn,
                                            fs,
                                            filters,
                                            report,
                                            [](std::uint32_t) { return std::optional<std::string>("user"); },
                                            [](std::uint32_t) { return std::optional<std::string>(); },
                                            false,
                                            "mod",
                                            {},
                                            {}};
        try {
            transfer::Sender sender(opt, std::move(services), nullptr);
            (void)sender.run(transfer::WireFilterParams{});
        } catch (const protocol::ProtocolError&) {
            // Includes FilterError: a peer's bad rules end the session the same way.
        } catch (const transfer::PeerExit&) {
        }
        // Anything else (logic_error, out_of_range, ...) escapes and is reported as a crash.
    }
    ::shutdown(sv[0], SHUT_RDWR);
    drainer.join();
    ::close(sv[0]);
    ::close(sv[1]);
    return 0;
}
