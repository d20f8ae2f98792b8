// SPDX-License-Identifier: MIT
// The uid/gid name lists that follow a file list (upstream uidlist.c): the sender's
// registry of ids seen, and both directions of the wire format.
#pragma once

#include "protocol/byte_stream.hpp"
#include "protocol/flist_options.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace ocr::protocol {

/// @brief Looks up the name of a uid or gid; nullopt when it has none. Called at most once
///        per distinct id, plus once for id 0 when CF_ID0_NAMES is on.
using IdNameLookup = std::function<std::optional<std::string>(std::uint32_t id)>;

/// Names on the wire are prefixed by one length byte.
inline constexpr std::size_t kMaxIdNameLength = 255;
/// Most (id, name) pairs accepted in one received list. Upstream has no limit of its own;
/// this is far above any real system's number of users and bounds a hostile peer.
inline constexpr std::size_t kMaxIdListEntries = 1u << 20;

/// @brief One (id, name) pair; an empty name means the sender had none.
struct IdName {
    std::uint32_t id = 0;
    std::string name;

    friend bool operator==(const IdName&, const IdName&) = default;
};

/// @brief The lists read after a non-incremental file list.
struct IdLists {
    std::vector<IdName> users;
    std::vector<IdName> groups;
};

/// @brief The sender's record of the ids that appeared in its file lists
///        (upstream uidlist.c:add_uid/add_gid plus send_one_list).
class IdRegistry {
public:
    /// @param lookup turns an id into its name (getpwuid/getgrgid or a name converter).
    explicit IdRegistry(IdNameLookup lookup) : lookup_(std::move(lookup)) {}

    /// @brief Records @p id.
    /// @return the name to send inline: only the first time the id is seen, and only if
    ///         it has a name (upstream add_uid returns NULL otherwise).
    std::optional<std::string> add(std::uint32_t id);

    /// @brief Appends the list: every named non-zero id, most recently added first as
    ///        upstream's linked list has it, then the terminator (or, with
    ///        @p xmit_id0_names, id 0 with its name).
    void encode(std::string& out, int protocol, bool xmit_id0_names) const;

    /// @brief How many distinct ids have been recorded.
    [[nodiscard]] std::size_t size() const noexcept { return order_.size(); }

private:
    struct Seen {
        std::uint32_t id;
        std::optional<std::string> name;
    };
    IdNameLookup lookup_;
    std::vector<Seen> order_; ///< first-seen order
    std::unordered_set<std::uint32_t> known_;
};

/// @brief Appends one "varint30 id, byte length, name" record (upstream send_one_name);
///        names longer than 255 bytes are cut to 255 as upstream cuts them.
void put_id_name(std::string& out, int protocol, std::uint32_t id, std::string_view name);

/// @brief Reads one list: records until id 0, then with @p xmit_id0_names the name of id 0
///        (upstream uidlist.c:recv_id_list).
/// @throw ProtocolError(Protocol) if the list has more than kMaxIdListEntries records.
/// @throw ProtocolError(StreamIo) at the end of the stream.
[[nodiscard]] std::vector<IdName> read_id_list(ByteSource& in, int protocol, bool xmit_id0_names);

/// @brief Reads a name that follows an id inline (one length byte, then the bytes).
[[nodiscard]] std::string read_id_name(ByteSource& in);

/// @brief Whether id lists follow the list: not with incremental recursion, not when the
///        client passed --numeric-ids (upstream flist.c:send_file_list).
[[nodiscard]] bool id_lists_sent(const FlistOptions& opts) noexcept;

/// @brief Reads the user list (if -o) and the group list (if -g), when they are sent.
[[nodiscard]] IdLists read_id_lists(ByteSource& in, const FlistOptions& opts);

} // namespace ocr::protocol
