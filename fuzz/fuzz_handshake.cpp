// SPDX-License-Identifier: MIT
// Fuzz target: arbitrary client bytes through the whole daemon handshake (greeting, module
// line, early input, auth reply, argument lists, option parsing, refusals), in chunks whose
// size the first input byte picks. Lookups are answered from tables.
#include "daemon/handshake.hpp"
#include "support/handshake_fixture.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

const char* kConfig = R"(motd file = /etc/motd
[pub]
    path = /srv/pub
    comment = %HOME% files
    refuse options = compress delete* !delete-after
[hidden]
    path = /srv/hidden
    list = no
    hosts allow = 10.0.0.0/8 localhost *.example.com @net
    hosts deny = 127.0.0.2
    reverse lookup = no
[auth]
    path = /srv/auth
    auth users = alice:rw, @staff:ro, bob:deny
    secrets file = /etc/secrets
    auth digest = md5
[up]
    path = /srv/up
    read only = no
    max connections = 2
    timeout = 5
[wo]
    path = /srv/wo
    write only = yes
)";

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static const auto config = ocr::test::config_from(kConfig, {{"/etc/motd", "motd\n"},
                                                                {"/etc/secrets", "alice:pw\n@staff:x\n"}});
    if (size == 0)
        return 0;
    const std::size_t chunk = 1 + data[0] % 64;
    std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    ocr::test::FakeHandshakeEnv env;
    ocr::daemon::HandshakeMachine::Settings settings;
    settings.addr = "127.0.0.1";
    settings.host = (data[0] & 0x80) ? "UNDETERMINED" : "localhost";
    ocr::daemon::HandshakeMachine m(config, settings, env);
    m.start();
    using Step = ocr::daemon::HandshakeMachine::Step;
    while (m.step() == Step::NeedInput) {
        if (input.empty()) {
            m.feed_eof();
        } else {
            const std::size_t n = std::min(chunk, input.size());
            m.feed(input.substr(0, n));
            input.remove_prefix(n);
        }
        ocr::test::settle(m);
        (void)m.take_output();
        (void)m.take_log();
    }
    if (m.step() == Step::Dispatch)
        (void)m.take_session();
    return 0;
}
