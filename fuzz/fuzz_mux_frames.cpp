// SPDX-License-Identifier: MIT
// Fuzz target: the Connection's multiplexed input (frames, message sizes, keep-alive
// frames) over a socketpair, checked against a plain re-reading of the same frames, and
// its in-place framing of output (writes, messages, flushes).
#include "protocol/mux.hpp"
#include "protocol/protocol_error.hpp"
#include "transfer/connection.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace ocr;

struct Recorder final : transfer::MessageHandler {
    std::vector<std::pair<protocol::MsgCode, std::string>> seen;
    void on_message(protocol::MsgCode code, std::string_view payload) override
    {
        if (payload.size() > transfer::Connection::kMaxMessage)
            std::abort();
        seen.emplace_back(code, std::string(payload));
    }
};

// The tags upstream's read_a_msg accepts at all (others are "unexpected tag").
bool known_tag(protocol::MsgCode code)
{
    switch (static_cast<int>(code)) {
    case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 8: case 9: case 10:
    case 22: case 33: case 42: case 86: case 100: case 101: case 102:
        return true;
    default:
        return false;
    }
}

// What a correct demultiplexer delivers from @p wire before it has to stop.
struct Expected {
    std::string data;
    std::vector<std::pair<protocol::MsgCode, std::string>> messages;
};

Expected reference(std::string_view wire)
{
    Expected e;
    std::size_t pos = 0;
    while (wire.size() - pos >= 4) {
        const auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<std::uint8_t>(wire[pos + i])); };
        const std::uint32_t head = b(0) | (b(1) << 8) | (b(2) << 16) | (b(3) << 24);
        const std::uint32_t len = head & 0xFFFFFF;
        const std::uint32_t tag = head >> 24;
        if (tag < protocol::kMuxBase)
            break;
        const auto code = static_cast<protocol::MsgCode>(tag - protocol::kMuxBase);
        if (code != protocol::MsgCode::Data && !known_tag(code))
            break;
        pos += 4;
        const std::size_t avail = std::min<std::size_t>(len, wire.size() - pos);
        if (code == protocol::MsgCode::Data) {
            e.data.append(wire.substr(pos, avail));
            pos += avail;
            continue;
        }
        if (len > transfer::Connection::kMaxMessage || avail < len)
            break;
        e.messages.emplace_back(code, std::string(wire.substr(pos, len)));
        pos += len;
    }
    return e;
}

// The output side: @p script drives writes of various sizes, messages and flushes; the
// peer must see exactly the data written, in MSG_DATA frames of 1..64 KiB, with the
// messages in their places.
void check_output(std::string_view script)
{
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        std::abort();
    std::string wire;
    std::thread reader([&] {
        char buf[65536];
        ssize_t n;
        while ((n = ::read(sv[1], buf, sizeof buf)) > 0)
            wire.append(buf, static_cast<std::size_t>(n));
    });
    std::string expected; // data and messages as the peer should parse them
    {
        transfer::Connection conn({sv[0], std::chrono::seconds(5), 0, "sender", {}});
        conn.start_mux_out();
        std::string data; // data written since the last message
        std::uint8_t fill = 0;
        for (std::size_t i = 0; i < script.size() && i < 24; ++i) {
            const auto op = static_cast<std::uint8_t>(script[i]);
            if (op < 200) {
                // Mostly small writes; some large enough to fill frames and trigger flushes.
                const std::size_t len = op < 100 ? op * 31u : (op - 100u) * 4099u;
                std::string chunk(len, '\0');
                for (char& c : chunk)
                    c = static_cast<char>(fill++);
                conn.write(chunk);
                data += chunk;
            } else if (op < 230) {
                const std::string text(op - 200u, 'm');
                conn.send_message(protocol::MsgCode::Info, text);
                expected += "D" + data + "M" + text;
                data.clear();
            } else {
                conn.flush();
            }
        }
        conn.flush();
        expected += "D" + data;
        ::shutdown(sv[0], SHUT_WR);
        reader.join();
    }
    ::close(sv[0]);
    ::close(sv[1]);
    // Parse what arrived into the same form (consecutive data merged).
    std::string seen;
    bool in_data = false;
    for (std::size_t pos = 0; pos < wire.size();) {
        if (wire.size() - pos < 4)
            std::abort();
        const auto h = protocol::decode_frame_header(reinterpret_cast<const std::uint8_t*>(wire.data() + pos));
        if (!h || wire.size() - pos - 4 < h->length)
            std::abort();
        const std::string_view payload(wire.data() + pos + 4, h->length);
        if (h->code == protocol::MsgCode::Data) {
            if (h->length == 0 || h->length > 65536)
                std::abort();
            if (!in_data)
                seen += "D";
            seen += payload;
            in_data = true;
        } else {
            if (!in_data)
                seen += "D";
            seen += "M";
            seen += payload;
            in_data = false;
        }
        pos += 4 + h->length;
    }
    if (!in_data)
        seen += "D";
    // The expected form has a "D" before every message and at the end, even for no data.
    if (seen != expected)
        std::abort();
}

} // namespace

// Byte 0: how many bytes each read asks for (1..16); byte 1: how much of the input arrives
// as bytes already read by someone else (Options::initial_input). The rest is the stream.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 2 || size > 1u << 16)
        return 0;
    const std::size_t chunk = 1 + data[0] % 16;
    const std::string_view wire(reinterpret_cast<const char*>(data) + 2, size - 2);
    const std::size_t initial = std::min<std::size_t>(data[1], wire.size());
    const Expected expected = reference(wire);

    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        std::abort();
    // The input fits the socket buffer (64 KiB at most), so one blocking write suffices.
    std::string_view rest = wire.substr(initial);
    while (!rest.empty()) {
        const ssize_t n = ::send(sv[1], rest.data(), rest.size(), MSG_NOSIGNAL);
        if (n <= 0)
            std::abort();
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    ::shutdown(sv[1], SHUT_WR);

    Recorder rec;
    std::string got;
    {
        transfer::Connection conn({sv[0], std::chrono::seconds(5), 0, "sender", std::string(wire.substr(0, initial))});
        conn.set_handler(&rec);
        conn.start_mux_in();
        std::string buf(chunk, '\0');
        try {
            for (;;) {
                conn.read_exact(std::span<std::byte>(reinterpret_cast<std::byte*>(buf.data()), chunk));
                got += buf;
            }
        } catch (const protocol::ProtocolError& e) {
            // Every way out of a multiplexed stream is a stream error (end, bad tag, overflow).
            if (e.code() != protocol::ExitCode::StreamIo)
                std::abort();
        }
    }
    ::close(sv[0]);
    ::close(sv[1]);

    // Whole reads only: what was delivered is the expected data less a final partial read.
    if (got.size() > expected.data.size() || expected.data.size() - got.size() >= chunk ||
        expected.data.compare(0, got.size(), got) != 0)
        std::abort();
    if (rec.seen != expected.messages)
        std::abort();
    check_output(wire.substr(0, 24));
    return 0;
}
