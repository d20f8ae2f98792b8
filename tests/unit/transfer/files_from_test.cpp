// SPDX-License-Identifier: MIT
// Tests of --files-from on the sending side: how names are sanitized and how they are
// read from a file's content.
#include "transfer/sender.hpp"
#include "transfer/sender_flist.hpp"

#include "protocol/flist_decoder.hpp"
#include "protocol/mux.hpp"
#include "protocol/protocol_error.hpp"
#include "protocol/wire.hpp"
#include "transfer/filter_source.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

namespace ocr::transfer {
namespace {

// Verifies upstream sanitize_path(fbuf, fbuf, "", 0, SP_KEEP_DOT_DIRS) without -R:
// slashes collapse and never lead, ".." never climbs above the start, "." components go.
TEST(SanitizeFilesFromName, WithoutRelative)
{
    EXPECT_EQ(sanitize_files_from_name("/etc/passwd", false), "etc/passwd");
    EXPECT_EQ(sanitize_files_from_name("a//b///c", false), "a/b/c");
    EXPECT_EQ(sanitize_files_from_name("../../x", false), "x");
    EXPECT_EQ(sanitize_files_from_name("a/../../b", false), "b");
    EXPECT_EQ(sanitize_files_from_name("a/b/../c", false), "a/c");
    EXPECT_EQ(sanitize_files_from_name("./a/./b/.", false), "a/b/");
    EXPECT_EQ(sanitize_files_from_name(".", false), ".");
    EXPECT_EQ(sanitize_files_from_name("", false), ".");
    EXPECT_EQ(sanitize_files_from_name("a/..", false), ".");
    EXPECT_EQ(sanitize_files_from_name("...", false), "...");
    EXPECT_EQ(sanitize_files_from_name("a/b/", false), "a/b/");
    EXPECT_EQ(sanitize_files_from_name("a/..b/c..", false), "a/..b/c..");
}

// Verifies the same with -R, which keeps "." components (and a leading "./").
TEST(SanitizeFilesFromName, WithRelative)
{
    EXPECT_EQ(sanitize_files_from_name("/etc/passwd", true), "etc/passwd");
    EXPECT_EQ(sanitize_files_from_name("./a/./b/.", true), "./a/./b/.");
    EXPECT_EQ(sanitize_files_from_name("dir/./sub/file", true), "dir/./sub/file");
    // ".." climbs over a kept "." component like any other.
    EXPECT_EQ(sanitize_files_from_name("./../x", true), "x");
    EXPECT_EQ(sanitize_files_from_name("a/../../b", true), "b");
    EXPECT_EQ(sanitize_files_from_name(".", true), ".");
    EXPECT_EQ(sanitize_files_from_name("//", true), ".");
}

// The client's side of a protocol-29 session: the demultiplexed stream and its messages.
class ClientIn final : public protocol::ByteSource {
public:
    explicit ClientIn(int fd) : fd_(fd) {}
    void read_exact(std::span<std::byte> out) override
    {
        std::size_t done = 0;
        while (done < out.size()) {
            if (left_ == 0) {
                std::uint8_t h[4];
                raw(h, 4);
                const auto head = protocol::decode_frame_header(h);
                if (!head)
                    throw protocol::ProtocolError(protocol::ExitCode::StreamIo, "bad frame");
                if (head->code == protocol::MsgCode::Data) {
                    left_ = head->length;
                    continue;
                }
                std::string payload(head->length, '\0');
                raw(payload.data(), payload.size());
                messages.emplace_back(head->code, payload);
                continue;
            }
            const std::size_t take = std::min(left_, out.size() - done);
            raw(out.data() + done, take);
            done += take;
            left_ -= take;
        }
    }
    std::vector<std::pair<protocol::MsgCode, std::string>> messages;

private:
    void raw(void* p, std::size_t n)
    {
        auto* c = static_cast<char*>(p);
        while (n > 0) {
            const ssize_t r = ::read(fd_, c, n);
            if (r <= 0)
                throw protocol::ProtocolError(protocol::ExitCode::StreamIo, "client: eof");
            c += r;
            n -= static_cast<std::size_t>(r);
        }
    }
    int fd_;
    std::size_t left_ = 0;
};

class FilesFromTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/ocr_files_from_XXXXXX";
        root_ = ::mkdtemp(tmpl);
        std::filesystem::create_directories(root_ + "/sub");
        std::ofstream(root_ + "/a.txt") << "a";
        std::ofstream(root_ + "/sub/c.txt") << "c";
        std::ofstream(root_ + "/#hash") << "h";
    }
    void TearDown() override { std::filesystem::remove_all(root_); }

    struct Outcome {
        std::vector<std::string> names;  ///< entries of the first list
        std::vector<std::string> errors; ///< MSG_ERROR_XFER texts
    };

    // Runs a protocol-29 pull whose names come from @p content (a --files-from file in the
    // module) and returns the first file list the client receives.
    Outcome run(const std::string& content, bool eol_nulls = false)
    {
        SenderOptions opt;
        opt.flist.protocol = 29;
        opt.flist.relative_paths = true;
        opt.xfer_checksum = {protocol::ChecksumKind::Md5, protocol::SeedPlacement::Prepend};
        opt.relative_paths = true;
        opt.xfer_dirs = true;
        opt.paths = {"."};
        opt.files_from_content = content;
        opt.eol_nulls = eol_nulls;

        int sv[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        timeval tv{10, 0};
        ::setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        std::thread sender([&] {
            Connection conn({sv[1], std::chrono::seconds(5), 0, "sender", {}});
            conn.start_mux_out();
            Reporter report(conn, 29, "sender", {});
            report.set_can_send(true);
            ModuleFs fs(UniqueFd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY)));
            NoFilterFiles no_files;
            FilterOptions fo;
            FilterSet filters(fo, no_files);
            Sender::Services services{conn, fs, filters, report, {}, {}, false, "mod", {}, {}};
            try {
                Sender s(opt, std::move(services), nullptr);
                (void)s.run(WireFilterParams{});
            } catch (const std::exception&) {
                // The client hangs up after the list.
            }
            ::shutdown(sv[1], SHUT_RDWR);
        });
        std::string filter_list;
        protocol::put_i32(filter_list, 0);
        EXPECT_EQ(::write(sv[0], filter_list.data(), 4), 4);
        Outcome out;
        ClientIn in(sv[0]);
        try {
            protocol::FlistDecoder decoder(opt.flist);
            for (const auto& e : decoder.read_first_list(in).entries)
                out.names.push_back(e.name);
        } catch (const std::exception& e) {
            ADD_FAILURE() << e.what();
        }
        ::shutdown(sv[0], SHUT_RDWR);
        sender.join();
        ::close(sv[0]);
        ::close(sv[1]);
        for (const auto& [code, text] : in.messages)
            if (code == protocol::MsgCode::ErrorXfer)
                out.errors.push_back(text);
        return out;
    }

    std::string root_;
};

bool has(const std::vector<std::string>& v, const std::string& s)
{
    return std::find(v.begin(), v.end(), s) != v.end();
}

// Verifies that lines end at LF or CR, and that empty lines and "#"/";" comments are skipped.
TEST_F(FilesFromTest, LinesCommentsAndEmptyLines)
{
    const Outcome o = run("a.txt\r\n\n#hash\n;sub/c.txt\r\rsub/c.txt\n");
    EXPECT_TRUE(has(o.names, "a.txt"));
    EXPECT_TRUE(has(o.names, "sub/c.txt"));
    EXPECT_FALSE(has(o.names, "#hash"));
    EXPECT_TRUE(o.errors.empty()) << o.errors.front();
}

// Verifies that the last name counts without a line ending, and that names are sanitized
// before use ("../" and a leading "/" cannot leave the module).
TEST_F(FilesFromTest, LastLineWithoutEndingAndSanitizing)
{
    const Outcome o = run("/a.txt\n../sub/c.txt");
    EXPECT_TRUE(has(o.names, "a.txt"));
    EXPECT_TRUE(has(o.names, "sub/c.txt"));
}

// Verifies that with --from0 names end at NUL only (a CR or LF is part of the name) and
// comments are still skipped.
TEST_F(FilesFromTest, NulSeparatedNames)
{
    const Outcome o = run(std::string("a.txt\0#hash\0sub/c.txt\0", 22), true);
    EXPECT_TRUE(has(o.names, "a.txt"));
    EXPECT_TRUE(has(o.names, "sub/c.txt"));
    EXPECT_FALSE(has(o.names, "#hash"));
}

// Verifies that a name longer than upstream's MAXPATHLEN buffer is cut to 4095 bytes (and
// then fails to stat under its cut name) rather than refused.
TEST_F(FilesFromTest, LongNameIsTruncated)
{
    const Outcome o = run(std::string(5000, 'x') + "\na.txt\n");
    EXPECT_TRUE(has(o.names, "a.txt"));
    ASSERT_EQ(o.errors.size(), 1u);
    const std::string expected_name = "\"" + std::string(4095, 'x') + "\" (in mod)";
    EXPECT_NE(o.errors[0].find(expected_name), std::string::npos);
    EXPECT_EQ(o.errors[0].find(std::string(4096, 'x')), std::string::npos);
}

} // namespace
} // namespace ocr::transfer
