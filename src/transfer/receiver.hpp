// SPDX-License-Identifier: MIT
// A push's receiver: reads the sender's files (and later file lists) from the socket,
// rebuilds each file from its basis and the delta into a temp file, verifies it and
// renames it into place (upstream receiver.c:recv_files, rsync.c:read_ndx_and_attrs,
// finish_transfer).
#pragma once

#include "protocol/ndx.hpp"
#include "protocol/token_codec.hpp"
#include "transfer/connection.hpp"
#include "transfer/push_context.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace ocr::transfer {

/// @brief Thrown on the receiver thread when the client ends with MSG_ERROR_EXIT.
struct PushPeerExit {
    int code;
};

/// @brief The receiver; runs on the thread that reads the socket.
class Receiver final : public MessageHandler {
public:
    Receiver(PushShared& shared, Connection& conn);

    /// @brief Reads the first file list and, with incremental recursion and a one-entry
    ///        list, what follows it (main.c:do_server_recv). Runs before the threads split.
    /// @throw ProtocolError.
    void read_file_lists();
    /// @brief The --compare-dest/--copy-dest/--link-dest directories, module-relative
    ///        (upstream basis_dir[]): a basis type below 0x80 names one of them. Set before
    ///        run() starts.
    void set_basis_dirs(std::vector<std::string> dirs) { basis_dirs_ = std::move(dirs); }
    /// @brief The thread body: receives every file, then the end-of-run indexes. Never
    ///        throws: failures go to the channel (set_failure) before the Ended event.
    void run() noexcept;

    void on_message(protocol::MsgCode code, std::string_view payload) override;

private:
    void recv_files();
    void read_final_goodbye();
    /// upstream read_ndx_and_attrs: false for NDX_DONE.
    bool read_ndx_and_attrs(std::int32_t& ndx, std::uint32_t& iflags, std::uint8_t& type, std::string& xname);
    void receive_file(std::int32_t ndx, const protocol::FileEntry& e, std::uint32_t iflags, std::uint8_t type,
                      const std::string& xname);
    /// @brief Module-relative path of a fuzzy basis @p xname named with basis @p type.
    [[nodiscard]] std::string fuzzy_basis_path(std::uint8_t type, const std::string& rel, const std::string& name,
                                               const std::string& xname) const;
    /// upstream handle_delayed_updates (--delay-updates).
    void handle_delayed_updates();
    void post(PushEvent::Kind kind, std::int32_t ndx = 0);
    [[noreturn]] void fail_index(std::int32_t ndx, const char* where) const;

    PushShared& s_;
    Connection& conn_;
    protocol::NdxDecoder ndx_in_;
    std::unique_ptr<protocol::TokenDecoder> tokens_;
    std::size_t xfer_sum_len_ = 16;
    std::unordered_set<std::int32_t> sent_;
    std::vector<std::int32_t> delayed_; ///< files waiting in their partial dir (--delay-updates)
    std::vector<std::string> basis_dirs_; ///< upstream basis_dir[], module-relative
    /// upstream basis_dir[j] joined with the destination-relative name of @p rel.
    [[nodiscard]] std::string alt_basis_path(std::size_t j, const std::string& rel) const;
    int phase_ = 0;
    std::int64_t retired_lists_ = 0;
};

} // namespace ocr::transfer
