// SPDX-License-Identifier: MIT
// The sending side of a pull, from the client's filter list to the final goodbye
// (upstream main.c:do_server_sender, sender.c:send_files, main.c:handle_stats).
#pragma once

#include "protocol/checksum.hpp"
#include "protocol/ndx.hpp"
#include "protocol/token_codec.hpp"
#include "transfer/delta_matcher.hpp"
#include "transfer/chmod_rules.hpp"
#include "transfer/connection.hpp"
#include "transfer/filter_set.hpp"
#include "transfer/filter_wire.hpp"
#include "transfer/log_format.hpp"
#include "transfer/module_fs.hpp"
#include "transfer/reporter.hpp"
#include "transfer/sender_flist.hpp"
#include "transfer/transfer_options.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ocr::transfer {

/// @brief Thrown when the client ends the session with MSG_ERROR_EXIT.
struct PeerExit {
    int code;
};

/// @brief What the sender reports when it is done.
struct SenderResult {
    int exit_code = 0;          ///< 0, or 23/24/25 (Reporter::partial_exit_code)
    /// Upstream stopped reading its input before exiting (an empty file list): the end of
    /// the session must not wait for the client.
    bool input_abandoned = false;
    std::uint64_t total_read = 0;
    std::uint64_t total_written = 0;
    std::int64_t total_size = 0;
};

/// @brief One transfer-log line of a pull (upstream log_item's arguments on a sender).
struct SentLogItem {
    const SentFile& file;
    const std::string& pathname;   ///< its F_PATHNAME directory (module-relative)
    std::uint32_t iflags = 0;
    std::string_view hlink;        ///< the request's xname (%L " => NAME"); empty if none
    std::int64_t bytes_written = 0; ///< written while it was sent (0 when not transferred)
    std::int64_t bytes_read = 0;    ///< read while it was sent (0 when not transferred)
    std::span<const std::byte> file_sum{}; ///< the whole-file sum sent after the data (empty if none)
};

/// @brief One pull, on a connection whose protocol setup is done and whose output is
///        multiplexed (input too from protocol 30).
class Sender final : public MessageHandler {
public:
    struct Services {
        Connection& conn;
        ModuleFs& fs;
        FilterSet& filters;
        Reporter& report;
        protocol::IdNameLookup user_name;
        protocol::IdNameLookup group_name;
        bool chrooted = false;
        std::string module_name;
        /// Transfer logging (upstream log_item on a server: the daemon log only): called
        /// for each file sent and for each entry maybe_log_item would log; may be empty.
        std::function<void(const SentLogItem&)> log_item;
        /// Called once the client's filter list is read, before the file list: where
        /// upstream's do_server_sender refuses what the module does not allow. It refuses
        /// by throwing; may be empty.
        std::function<void()> after_filter_list;
    };

    Sender(const SenderOptions& options, Services services, const ChmodRules* chmod);

    /// @brief Runs the pull, starting with the client's filter list.
    /// @param wire what decides whether and how the client sends its filter list.
    /// @throw ProtocolError / PeerExit / FilterError.
    SenderResult run(const WireFilterParams& wire);

    void on_message(protocol::MsgCode code, std::string_view payload) override;

    /// @brief The size of everything listed so far (upstream stats.total_size).
    [[nodiscard]] std::int64_t total_size() const noexcept { return flists_.stats().total_size; }

private:
    void send_files();
    bool send_idle_list();
    bool read_request(std::int32_t& ndx, std::uint32_t& iflags, std::uint8_t& basis_type, std::string& xname);
    void echo_request(std::int32_t ndx, std::uint32_t iflags, std::uint8_t basis_type, const std::string& xname);
    void send_one(std::int32_t ndx, SentFile& file, std::uint32_t iflags, std::uint8_t basis_type,
                  const std::string& xname, bool redo);
    void write_stats();
    void read_final_goodbye();
    void successful_send(std::int32_t ndx);

    const SenderOptions& opt_;
    Services s_;
    protocol::NdxEncoder ndx_out_;
    protocol::NdxDecoder ndx_in_;
    SenderFileLists flists_;
    std::optional<protocol::BlockChecksum> block_sum_;
    std::unique_ptr<protocol::TokenEncoder> token_encoder_;
    DeltaMatcher matcher_;
    int phase_ = 0;
    std::int64_t literal_data_ = 0;
    // Upstream match.c's totals for its -vv report (match_report).
    std::int64_t total_matches_ = 0;
    std::int64_t total_hash_hits_ = 0;
    std::int64_t total_false_alarms_ = 0;
    std::int64_t matched_data_ = 0;
    std::int64_t xferred_files_ = 0;
    std::int64_t created_files_ = 0;
};

} // namespace ocr::transfer
