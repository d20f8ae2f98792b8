// SPDX-License-Identifier: MIT
// Choosing a session's transfer and file-list checksums as upstream 3.5.0's server does
// (compat.c:negotiate_the_strings, recv_negotiate_str; checksum.c:parse_checksum_choice).
#pragma once

#include "protocol/byte_stream.hpp"
#include "protocol/checksum.hpp"
#include "protocol/exit_code.hpp"
#include "protocol/server_setup.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace ocr::protocol {

/// Longest name list upstream reads (compat.c MAX_NSTR_STRLEN minus its NUL).
inline constexpr std::size_t kMaxNameListLength = 255;

/// @brief A name list as a peer sent it (upstream io.c:read_vstring into a 256-byte buffer).
struct PeerNameList {
    std::string names;       ///< the list, when it fit
    bool over_long = false;  ///< longer than kMaxNameListLength; its bytes were not read
    std::size_t length = 0;  ///< the length the peer announced
};

/// @brief Reads a peer's checksum or compression name list.
///
/// A list longer than kMaxNameListLength is not read (upstream stops there too and the
/// session ends); the result says so.
/// @throw ProtocolError (StreamIo) when the stream ends.
[[nodiscard]] PeerNameList read_peer_name_list(ByteSource& in);

/// @brief What the server knows when it settles the checksums (after the compat flags).
struct ChecksumNegotiationInputs {
    int protocol = 32;
    /// CF_CHKSUM_SEED_FIX was agreed (the client sent "C"; never below protocol 30).
    bool proper_seed_order = false;
    /// The client sent "v": name lists are exchanged (upstream do_negotiated_strings).
    bool negotiated_strings = false;
    /// --checksum-choice as the client forwarded it ("X" or "X,Y"), nullopt when absent
    /// or "auto" / "auto,auto" (option parsing drops those, as upstream does).
    std::optional<std::string> checksum_choice;
    /// The client's list; present exactly when the lists were exchanged (negotiated
    /// strings and no checksum_choice).
    std::optional<PeerNameList> client_list;
    /// Our own list in preference order (what we sent, or would have sent).
    std::string_view server_list = kChecksumNameList;
};

/// @brief The outcome: the transfer checksum (block sums and the whole-file sum) and the
///        file-list (--checksum) checksum.
struct ChecksumSelection {
    TransferChecksum transfer;
    ChecksumKind file_list = ChecksumKind::Md5;
    /// Chosen from the exchanged lists (upstream's "negotiated" in its debug output).
    bool negotiated = false;
    /// Upstream's checksum_choice after setup: the negotiated name, the client's
    /// --checksum-choice, or the implied "md5"/"md4" (for debug and batch output).
    std::string name;
    /// A transfer checksum of "none" forces whole-file transfers (upstream sets whole_file).
    [[nodiscard]] bool forces_whole_file() const noexcept { return transfer.kind == ChecksumKind::None; }
};

/// @brief Why no checksum could be chosen.
struct ChecksumNegotiationError {
    /// Upstream's error lines for the log and the client, each ending in "\n"; empty
    /// when upstream's server says nothing (a failed list negotiation, which the client
    /// reports itself).
    std::string message;
    ExitCode exit_code = ExitCode::Unsupported;
};

/// @brief Settles the checksums as upstream 3.5.0's server does.
///
/// - With --checksum-choice: its names (with "auto" meaning the implied choice).
/// - With exchanged lists: the first name of OUR list that the client's list contains
///   (3.5.0 rule; a client that lists names in our order gets its own first choice).
/// - Otherwise the implied choice: md5 for protocol 30+, the old MD4 below.
///
/// MD4/MD5 seed placement follows what Debian's rsync 3.5.0 (an OpenSSL build without
/// asm-MD5, legacy provider not loaded) computes, checked against real clients: MD5
/// chosen by name or implied with CF_CHKSUM_SEED_FIX goes through OpenSSL and puts the
/// seed first; MD5 implied without that flag uses the built-in code and puts it last;
/// MD4, by name or implied, always falls back to the built-in code and puts it last.
[[nodiscard]] std::variant<ChecksumSelection, ChecksumNegotiationError>
negotiate_checksums(const ChecksumNegotiationInputs& in);

} // namespace ocr::protocol
