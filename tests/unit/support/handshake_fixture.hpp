// SPDX-License-Identifier: MIT
// Test support: configs from text and a scripted HandshakeEnvironment, so that the daemon
// handshake can be driven with byte strings (unit tests and the fuzz target).
#pragma once

#include "daemon/auth_rules.hpp"
#include "daemon/config.hpp"
#include "daemon/handshake.hpp"

#include <map>
#include <memory>
#include <string>

namespace ocr::test {

/// @brief Loads a config from @p text (as /etc/rsyncd.conf) plus extra files by path.
inline std::shared_ptr<const daemon::Config> config_from(const std::string& text,
                                                         const std::map<std::string, std::string>& files = {})
{
    daemon::FileBundle bundle;
    bundle.record_read("/etc/rsyncd.conf", daemon::FileData{text, 0100644, 0, false});
    for (const auto& [path, contents] : files)
        bundle.record_read(path, daemon::FileData{contents, 0100600, 0, false});
    daemon::BundleFileSource source(bundle);
    daemon::LoadOptions options;
    options.config_path = "/etc/rsyncd.conf";
    return daemon::load_config(options, source).config;
}

/// @brief Answers from tables; counts module slots like the front-end does.
class FakeHandshakeEnv final : public daemon::HandshakeEnvironment {
public:
    class Resolver final : public daemon::NameResolver {
    public:
        std::optional<std::vector<std::string>> addresses_of(std::string_view name) override
        {
            if (name == "localhost")
                return std::vector<std::string>{"127.0.0.1"};
            return std::nullopt;
        }
        bool in_netgroup(std::string_view, std::string_view) override { return false; }
    };

    daemon::NameResolver& resolver() override { return resolver_; }
    daemon::GroupLookup& groups() override { return groups_; }
    daemon::ClientName client_name(std::string_view) override { return {"localhost", {}}; }
    std::optional<std::pair<std::string, std::string>> check_module(const daemon::ModuleSettings&,
                                                                    const std::string& path) override
    {
        if (path == "/missing")
            return std::make_pair(std::string("chdir /missing failed"), std::string("@ERROR: chdir failed"));
        return std::nullopt;
    }
    daemon::SlotClaim claim_connection_slot(const std::string& lock_file, int max) override
    {
        return slots.claim(lock_file, max);
    }
    bool daemon_is_root() const override { return false; }

    daemon::ConnectionSlots slots;

private:
    Resolver resolver_;
    daemon::NoGroupLookup groups_;
};

/// @brief Runs jobs inline until the machine wants input or has finished.
inline void settle(daemon::HandshakeMachine& m)
{
    while (m.step() == daemon::HandshakeMachine::Step::RunJob) {
        auto job = m.take_job();
        job();
        m.job_done();
    }
}

} // namespace ocr::test
