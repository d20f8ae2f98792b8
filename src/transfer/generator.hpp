// SPDX-License-Identifier: MIT
// A push's generator: decides per file what to do, makes directories, symlinks and
// specials, requests changed files with the block sums of their basis, and drives the
// phases (upstream generator.c:generate_files, recv_generator, itemize).
#pragma once

#include "protocol/checksum.hpp"
#include "protocol/ndx.hpp"
#include "transfer/connection.hpp"
#include "transfer/fuzzy.hpp"
#include "transfer/gen_hlinks.hpp"
#include "transfer/push_context.hpp"
#include "transfer/reporter.hpp"

#include <sys/stat.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace ocr::transfer {

/// @brief The generator; runs on the thread that writes the socket.
class Generator {
public:
    /// @param report the session's reporter (client + daemon log), used on this thread only.
    Generator(PushShared& shared, Connection& conn, Reporter& report);

    /// @brief Everything up to (not including) the final goodbye NDX_DONE.
    /// @throw ProtocolError, and whatever the receiver thread reported as fatal (see
    ///        take_fatal()).
    void run();
    /// @brief Writes the final goodbye (protocol >= 24).
    void send_goodbye();
    /// @brief Forwards the receiver's messages until it has ended.
    void drain_until_receiver_ended();

    [[nodiscard]] std::int64_t created_files() const noexcept { return created_; }

    /// @brief The --compare-dest/--copy-dest/--link-dest directories, module-relative, in
    ///        the client's order (upstream basis_dir[]; index j is basis type j on the wire).
    void set_basis_dirs(std::vector<std::string> dirs) { basis_dirs_ = std::move(dirs); }

private:
    struct ListState {
        int in_progress = 0;
        int to_redo = 0;
    };

    void generate_list(std::size_t li);
    void recv_generator(const protocol::FileEntry& e, std::int32_t ndx, int is_dir, bool redo);
    void gen_dir(const protocol::FileEntry& e, const std::string& rel, std::int32_t ndx, int is_dir,
                 int statret, struct stat& st);
    void gen_symlink(const protocol::FileEntry& e, const std::string& rel, std::int32_t ndx, int statret,
                     const struct stat& st);
    void gen_special(const protocol::FileEntry& e, const std::string& rel, std::int32_t ndx, int statret,
                     const struct stat& st);
    void gen_file(const protocol::FileEntry& e, const std::string& rel, std::int32_t ndx, int statret,
                  struct stat& st, bool redo);
    bool quick_check_ok(const protocol::FileEntry& e, const std::string& rel, const struct stat& st);
    /// upstream generator.c:try_dests_reg: -2 when the file was handled from an alt-dest
    ///        match (skipped, linked or copied), -1 when none helps, else the index of the
    ///        basis dir whose file @p cmp_rel (stat @p cmp_st) is the delta basis.
    ///        @p real_st is the existing destination (only an exact match is looked for then).
    int try_dests_reg(const protocol::FileEntry& e, std::int32_t ndx, const std::string& rel, std::uint32_t mode,
                      const struct stat* real_st, std::string& cmp_rel, struct stat& cmp_st);
    /// upstream generator.c:try_dests_non for a directory, symlink, device or special that
    ///        is missing: -2 when an exact match settled it (linked, or nothing to do),
    ///        -3 when it matched but could not be hard-linked, -1 when nothing matched, else
    ///        the index of the matching dir (its entry's stat in @p alt_st).
    int try_dests_non(const protocol::FileEntry& e, std::int32_t ndx, const std::string& rel, std::uint32_t mode,
                      struct stat& alt_st);
    /// What the alt-dest dirs decide for a symlink, device or special (the callers of
    ///        upstream's try_dests_non in recv_generator).
    struct AltNonRegular {
        bool stop = false;                   ///< settled: nothing more to do for the entry
        bool reporting = true;               ///< itemize the entry
        const struct stat* shown = nullptr;  ///< the matching entry's stat to itemize against
    };
    /// @param statret the destination's lstat result (the dirs are asked only when missing).
    AltNonRegular consult_alt_dests_non(const protocol::FileEntry& e, std::int32_t ndx, const std::string& rel,
                                        std::uint32_t mode, int statret, struct stat& alt_st);
    /// upstream generator.c:copy_altdest_file: copies @p from_rel to a temp file and puts it
    ///        in place of @p rel with the entry's attributes.
    bool copy_altdest_file(const std::string& from_rel, const std::string& rel, const protocol::FileEntry& e,
                           std::uint32_t mode);
    /// upstream generator.c:unchanged_attrs against an alt-dest entry's stat.
    bool attrs_unchanged(const protocol::FileEntry& e, std::uint32_t mode, const struct stat& st);
    /// upstream itemize(); @p ndx < 0 writes only the flags (after a transfer's index).
    void itemize(const protocol::FileEntry& e, std::uint32_t mode, std::int32_t ndx, int statret,
                 const struct stat* st, std::uint32_t iflags, std::uint8_t basis_type = kBasisFname,
                 const std::string& xname = {});
    [[nodiscard]] int maybe_attrs_report() const noexcept;
    AttrOutcome set_attrs(const protocol::FileEntry& e, const std::string& rel, std::uint32_t mode,
                          const struct stat* st, int flags, bool dir_created = false);
    bool delete_item(const std::string& rel, const struct stat& st, std::uint32_t new_mode);
    /// upstream generator.c:atomic_create for a symlink or hard link: @p make creates the
    /// entry under the name it is given; false when something failed (and was reported,
    /// @p failed_text for @p make's errno).
    bool atomic_create(const protocol::FileEntry& e, const std::string& rel, int statret, const struct stat* st,
                       const std::function<Errno(const std::string&)>& make, const std::string& failed_text);
    /// upstream delete_during == 2: directory touch-ups wait for the delayed deletions.
    [[nodiscard]] bool delay_deleting() const noexcept;

    // Hard links (upstream hlink.c); see gen_hlinks.hpp.
    std::int32_t check_prior(std::int32_t ndx, std::string& done_name);
    bool hard_link_check(const protocol::FileEntry& e, std::int32_t ndx, const std::string& rel, int statret,
                         const struct stat& st);
    bool maybe_hard_link(const protocol::FileEntry& e, std::int32_t ndx, const std::string& rel, int statret,
                         const struct stat* st, const std::string& leader_rel, const struct stat& leader_st,
                         const std::string& leader_name);
    void finish_hard_link(std::int32_t fin_ndx, const std::string& rel, const struct stat* stp);
    void handle_skipped_hlink(std::int32_t ndx);
    void bump_in_progress(std::int32_t ndx, int delta);
    void match_hard_links();
    /// upstream's "each parent dir must be in the file list" check (non-incremental).
    void check_parent_listed(const protocol::FileEntry& e, std::string_view dn);
    void handle_event(const PushEvent& ev);
    /// upstream check_for_finished_files.
    void check_for_finished_files(bool check_redo);
    /// upstream wait_for_receiver: blocks for the next event.
    void wait_for_receiver();
    /// @brief Where the -v name of an entry we make goes; nullopt: nowhere.
    [[nodiscard]] std::optional<LogCode> name_code() const;
    void touch_up_dir(const protocol::FileEntry& e);
    void write_ndx(std::int32_t ndx);
    void send_success(std::int32_t ndx);
    void maybe_keepalive();
    /// upstream generate_files' check every loopchk_limit entries (@p ndx is the entry's).
    void loop_check(std::int32_t ndx);

    PushShared& s_;
    Connection& conn_;
    std::int64_t next_loopchk_ = 0; ///< upstream next_loopchk: the first entry is checked
    Reporter& report_;
    protocol::NdxEncoder ndx_out_;
    std::optional<protocol::BlockChecksum> block_sum_;
    std::size_t xfer_sum_len_ = 16;

    std::vector<ListState> states_;
    std::size_t visible_lists_ = 0;
    std::size_t first_live_ = 0;       ///< upstream first_flist
    std::optional<std::size_t> cur_;   ///< upstream cur_flist (nullopt once all were generated)
    bool flist_eof_ = false;
    int msgdone_ = 0;
    bool receiver_ended_ = false;
    std::deque<std::int32_t> redo_;
    int phase_ = 0;

    const protocol::FileEntry* skip_dir_ = nullptr;
    std::string skip_dir_name_;
    std::string dry_missing_dir_;
    std::unordered_set<const protocol::FileEntry*> dir_created_;
    std::unordered_set<const protocol::FileEntry*> missing_dir_;
    std::unordered_set<const protocol::FileEntry*> time_failed_;
    std::vector<const protocol::FileEntry*> dirs_to_touch_;
    bool need_retouch_dir_perms_ = false;
    bool dir_tweaking_ = false;
    std::int64_t created_ = 0;
    HardLinkTable hl_;
    std::size_t hl_matched_ = 0;                          ///< lists matched so far
    std::deque<std::pair<std::int32_t, bool>> hl_pending_; ///< upstream hlink_list: (ndx, success)
    std::string parent_dirname_;   ///< upstream recv_generator's parent_dirname
    std::string prior_dir_name_;   ///< upstream prior_dir_file's name
    std::optional<std::unordered_map<std::string, std::uint32_t>> listed_dirs_; ///< names -> modes
    std::vector<std::string> basis_dirs_; ///< upstream basis_dir[], module-relative

    /// A --fuzzy basis: its module-relative path, its name, which dir list, its size.
    struct FuzzyBasis {
        std::string path;
        std::string name;
        std::size_t dir = 0;
        std::int64_t size = 0;
    };
    /// @brief Upstream find_fuzzy for a missing file, listing the dirs first if needed.
    std::optional<FuzzyBasis> find_fuzzy(const protocol::FileEntry& e, const std::string& rel);
    /// @brief Upstream FLAG_FILE_SENT in fuzzy_dirlist[0] for a file being updated.
    void mark_fuzzy_sent(const std::string& name);
    std::vector<std::vector<FuzzyCandidate>> fuzzy_dirs_; ///< upstream fuzzy_dirlist[]
    std::vector<std::string> fuzzy_dir_paths_;            ///< their module-relative paths
    bool need_fuzzy_dirs_ = false;                        ///< upstream need_fuzzy_dirlist
};

} // namespace ocr::transfer
