// SPDX-License-Identifier: MIT
// The session's filter state: daemon and client rule lists, the CVS list, per-directory merges.
#pragma once

#include "transfer/filter_error.hpp"
#include "transfer/filter_list.hpp"
#include "transfer/filter_rule.hpp"
#include "transfer/filter_source.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ocr::transfer {

/// @brief Resource bounds of one FilterSet (upstream has none beyond memory).
struct FilterLimits {
    /// Rules the client may send over the wire (recv_filter_list()).
    std::size_t max_wire_rules = std::size_t{1} << 18;
    /// Total bytes of rule text the client may send over the wire.
    std::size_t max_wire_bytes = std::size_t{64} << 20;
    /// Largest merge file read (FilterFileSource is asked to fail with EFBIG beyond it).
    std::size_t max_merge_file_bytes = std::size_t{16} << 20;
    /// Live rules of all lists together.
    std::size_t max_rules = std::size_t{1} << 20;
    /// Per-directory merge files active at once (each dir-merge rule name is one).
    std::size_t max_dir_merges = 256;
};

/// @brief The facts about the session the filter engine depends on.
struct FilterOptions {
    /// Upstream am_sender: which side this process is (rules for the other side are dropped
    /// from merge files, and the client list is checked for this side).
    FilterSide role = FilterSide::Sender;
    /// The negotiated protocol (protocol >= 30 makes the default CVS rules perishable).
    int protocol_version = 32;
    /// The client's --delete-excluded: rules parsed after it default to sender-side.
    bool delete_excluded = false;
    /// The client's --from0: merge files are split on NUL bytes instead of newlines.
    bool eol_nulls = false;
    /// Upstream who_am_i() for messages ("sender", "generator", "receiver", "Receiver").
    /// Empty: "sender" for the Sender role, "Receiver" (the pre-fork receiving server)
    /// otherwise.
    std::string who;
    /// The module's "use chroot": -C then reads "/.cvsignore" at the module root instead of
    /// $HOME/.cvsignore (upstream exclude.c:get_cvs_excludes).
    bool module_chroot = true;
    /// The daemon's $HOME, for $HOME/.cvsignore when not chrooted ("" = none); read with
    /// FilterFileSource::read_operator_file().
    std::string home_dir;
    /// The daemon's $CVSIGNORE, added to the CVS list by -C.
    std::optional<std::string> cvsignore_env;
    FilterLimits limits;
};

/// @brief Which list excluded a name.
enum class Exclusion : std::uint8_t {
    None,   ///< Not excluded.
    Daemon, ///< The module's filter excluded it: treat the name as nonexistent.
    Client, ///< The client's rules excluded it.
};

/// @brief All filter state of one session, as upstream keeps it in exclude.c's globals:
///        the module's daemon list, the client's list, the global CVS list and the
///        per-directory merge lists with their push/pop history.
///
/// The daemon list is built first (load_module_filters()), then the client's option rules
/// (add_option_rule()) and wire rules (recv_filter_list()). While walking, the caller sets the
/// transfer root and pushes every directory it enters (push_dir()) and pops it when leaving
/// (pop_dir()), which reads the per-directory merge files through the FilterFileSource.
///
/// Side semantics: upstream applies every rule of a remote server's lists regardless of its
/// side (a stock client only sends the rules meant for the server's side). This class checks
/// the client list for FilterOptions::role: a rule for the other side never applies. The
/// daemon list ignores sides entirely, as upstream (which built it with am_sender = 0, so
/// hide/show rules of the module's own parameters are dropped and protect/risk rules act on
/// both pulls and pushes).
///
/// Not thread-safe; one per session.
class FilterSet {
public:
    /// @brief Creates an empty set.
    /// @param options Session facts (copied).
    /// @param files Reads merge files; must outlive the set.
    FilterSet(FilterOptions options, FilterFileSource& files);
    FilterSet(const FilterSet&) = delete;
    FilterSet& operator=(const FilterSet&) = delete;
    ~FilterSet();

    /// @brief The module's daemon list (upstream daemon_filter_list).
    [[nodiscard]] FilterList daemon_list() const;
    /// @brief The client's list (upstream filter_list).
    [[nodiscard]] FilterList client_list() const;
    /// @brief The session facts.
    [[nodiscard]] const FilterOptions& options() const noexcept { return options_; }
    /// @brief The process name used in messages (upstream who_am_i()).
    [[nodiscard]] const std::string& who() const noexcept { return who_; }
    /// @brief Changes the process name used in messages, e.g. to "generator" once the
    ///        receiving side splits (upstream who_am_i() follows the process role).
    void set_who(std::string who) { who_ = std::move(who); }

    // --- Building (see also filter_daemon.hpp, filter_client.hpp, filter_wire.hpp). ---------

    /// @brief Parses module-configured rule text into the daemon list (upstream
    ///        parse_filter_str(&daemon_filter_list, ...) in clientserver.c:rsync_module).
    ///        Merge files it names are operator files.
    /// @param text The rules.
    /// @param template_flags Flags every rule starts from (rule_flag bits).
    /// @param xflags Parse mode (xflag bits).
    /// @param module_path The module's path as configured (relative merge-file names with a
    ///        '/' are resolved against it, as upstream resolves them against module_dir).
    /// @throw FilterError on a bad rule or an unreadable merge file.
    void add_daemon_rules(std::string_view text, RuleFlags template_flags, XFlags xflags,
                          std::string_view module_path);

    /// @brief Reads an operator file of rules into the daemon list (upstream
    ///        parse_filter_file(&daemon_filter_list, ...)); an empty path does nothing.
    /// @param path The file as configured.
    /// @param template_flags Flags every rule starts from.
    /// @param xflags Parse mode; with xflag::FatalErrors an unreadable file throws.
    /// @param module_path As for add_daemon_rules().
    /// @throw FilterError on a bad rule or (fatal mode) an unreadable file.
    void add_daemon_rule_file(std::string_view path, RuleFlags template_flags, XFlags xflags,
                              std::string_view module_path);

    /// @brief Parses client rule text into the client list (upstream
    ///        parse_filter_str(&filter_list, ...)). Merge files it names are module files.
    /// @param text The rules (an option value or one wire rule).
    /// @param template_flags Flags every rule starts from.
    /// @param xflags Parse mode.
    /// @throw FilterError on a bad rule or an unreadable merge file.
    void add_client_rules(std::string_view text, RuleFlags template_flags, XFlags xflags);

    /// @brief Reads a module file of rules into the client list (--exclude-from and
    ///        --include-from on a server: upstream parse_filter_file(&filter_list, ...)).
    /// @param path The module path (leading '/' = module root, else relative to the
    ///        transfer root, which is the module root before the walk).
    /// @param template_flags Flags every rule starts from.
    /// @param xflags Parse mode.
    /// @throw FilterError on a bad rule or (fatal mode) an unreadable file.
    void add_client_rule_file(std::string_view path, RuleFlags template_flags, XFlags xflags);

    // --- Walking. ----------------------------------------------------------------------------

    /// @brief Sets the directory names are relative to (upstream curr_dir), as a
    ///        module-relative path ("" = the module root). Anchored rules with the '/'
    ///        modifier and daemon rules with a '/' match the path from the module root.
    /// @param module_dir The transfer root inside the module.
    void set_transfer_root(std::string_view module_dir);

    /// @brief The current transfer root ("" = module root).
    [[nodiscard]] const std::string& transfer_root() const noexcept { return cwd_; }

    /// @brief Enters a directory: reads every active per-directory merge file there, making
    ///        the rules read in its parent inherited (upstream push_local_filters()).
    /// @param dir The directory relative to the transfer root ("." for the root itself).
    /// @throw FilterError when a merge file has a bad rule or a fatal unreadable merge.
    void push_dir(std::string_view dir);

    /// @brief Leaves the directory entered last (upstream pop_local_filters()).
    /// @throw std::logic_error when nothing is pushed.
    void pop_dir();

    /// @brief Number of directories pushed and not popped.
    [[nodiscard]] std::size_t dir_depth() const noexcept { return pushes_.size(); }

    // --- Checking. ---------------------------------------------------------------------------

    /// @brief Upstream name_is_excluded(ALL_FILTERS): the daemon list first, then the client
    ///        list for this side.
    /// @param name Path relative to the transfer root.
    /// @param is_dir Whether it is a directory.
    /// @return Which list excluded it, if any.
    [[nodiscard]] Exclusion excluded(std::string_view name, bool is_dir) const;

    /// @brief As excluded() above, for any name kind, optionally skipping perishable rules.
    [[nodiscard]] Exclusion excluded(std::string_view name, NameKind kind,
                                     bool ignore_perishable) const;

    /// @brief Upstream name_is_excluded(SERVER_FILTERS): the daemon list only.
    /// @param name Path relative to the transfer root (leading '/' = from the module root).
    /// @param is_dir Whether it is a directory.
    /// @return True when the module's filter excludes it.
    [[nodiscard]] bool daemon_excluded(std::string_view name, bool is_dir) const;

    /// @brief Upstream flist.c:path_is_daemon_excluded(): is any leading directory of
    ///        @p path (each checked as a directory), or with @p check_last the whole path,
    ///        excluded by the module's filter?
    /// @param path Path relative to the transfer root.
    /// @param check_last Also check the whole path (as a directory, like upstream).
    /// @return True when excluded.
    [[nodiscard]] bool daemon_excludes_path(std::string_view path, bool check_last) const;

    // --- State for the caller. ---------------------------------------------------------------

    /// @brief True once a dir-merge rule was parsed (upstream sets trust_sender_filter then;
    ///        a server trusts its sender anyway).
    [[nodiscard]] bool saw_dir_merge() const noexcept { return saw_dir_merge_; }
    /// @brief True once an 'x' rule was parsed (upstream saw_xattr_filter).
    [[nodiscard]] bool saw_xattr_filter() const noexcept { return saw_xattr_filter_; }
    /// @brief Returns and clears the non-fatal messages produced so far.
    [[nodiscard]] std::vector<FilterMessage> take_messages();
    /// @brief Returns and clears the "I/O error" flag (upstream io_error |= IOERR_GENERAL when a
    ///        directory's merge file could not be named).
    [[nodiscard]] bool take_io_error() noexcept;

private:
    friend class FilterList;
    using ListId = std::int32_t;
    static constexpr ListId kDaemonList = -1;
    static constexpr ListId kClientList = -2;
    static constexpr ListId kCvsList = -3;

    /// A rule in the node store (upstream: one malloc'ed filter_rule).
    struct Node {
        FilterRule rule;
        std::int32_t next = -1;
        std::int32_t slot = -1; ///< The per-directory list this dir-merge rule owns.
        bool live = false;
    };
    /// A list: head..tail are this level's own rules, tail->next onwards are inherited.
    struct Chain {
        std::int32_t head = -1;
        std::int32_t tail = -1;
    };
    /// A per-directory merge list and the dir-merge rule that owns it.
    struct Slot {
        std::int32_t owner = -1; ///< -1: torn down.
        Chain chain;
        /// Unique per slot ever created: a later slot reusing the index (or its owner's node)
        /// must not receive an earlier slot's saved state.
        std::uint64_t serial = 0;
    };
    /// What push_dir() saved for pop_dir().
    struct PushRecord {
        bool saved = false;
        std::vector<std::uint64_t> serials; ///< 0 for a torn-down slot
        std::vector<Chain> chains;
    };
    /// Where the text being parsed came from (upstream rule_src_*).
    struct Provenance {
        bool in_file = false;
        std::optional<std::string> file;
        long line = 0;
        std::optional<std::string> named_at;
    };

    // filter_set.cpp
    Chain& chain_of(ListId list);
    [[nodiscard]] const Chain& chain_of(ListId list) const;
    std::int32_t new_node();
    void append(ListId list, std::int32_t node);
    void free_chain(std::int32_t head);
    void pop_chain(ListId list);
    void teardown_slot(std::int32_t slot);
    void add_rule(ListId list, std::string_view pattern, RuleFlags flags, XFlags xflags);
    void parse_rules(ListId list, std::string_view text, RuleFlags template_flags,
                     XFlags xflags);
    void load_cvs_excludes(RuleFlags flags);
    [[nodiscard]] int check_chain(std::int32_t head, std::string_view name, NameKind kind,
                                  std::optional<FilterSide> side, bool ignore_perishable,
                                  int depth) const;
    [[nodiscard]] Verdict check_list(ListId list, std::string_view name, NameKind kind,
                                     std::optional<FilterSide> side,
                                     bool ignore_perishable) const;
    [[nodiscard]] std::vector<std::string> describe_list(ListId list) const;
    void message(FilterMessage::Level level, std::string text);

    // filter_file.cpp
    void parse_file(ListId list, std::string_view path, RuleFlags template_flags,
                    XFlags xflags);
    void parse_file_content(ListId list, const std::string& data, RuleFlags template_flags,
                            XFlags xflags);
    [[nodiscard]] std::optional<std::string> merge_name(RuleFlags rule_flags,
                                                        std::string_view name);
    [[nodiscard]] bool text_from_file(RuleFlags template_flags) const noexcept;
    [[nodiscard]] std::string rule_text(RuleFlags template_flags, std::string_view text) const;
    [[nodiscard]] std::string where() const;
    [[nodiscard]] bool daemon_hides_file(std::string_view module_path) const;

    // filter_merge.cpp
    void set_filter_dir(std::string_view dir);
    bool setup_merge_file(std::size_t slot);

    FilterOptions options_;
    FilterFileSource* files_;
    std::string who_;

    std::vector<Node> nodes_;
    std::vector<std::int32_t> free_nodes_;
    std::size_t live_nodes_ = 0;
    Chain daemon_;
    Chain client_;
    Chain cvs_;
    std::vector<Slot> slots_;
    std::uint64_t next_serial_ = 1;
    std::vector<PushRecord> pushes_;

    std::string cwd_;        ///< upstream curr_dir, module-relative
    std::string filter_dir_; ///< upstream dirbuf, module-relative
    std::string module_path_; ///< operator mode: the module's configured path
    bool operator_mode_ = false; ///< merge files are operator files
    bool daemon_build_ = false;  ///< building the daemon list (upstream am_sender == 0)
    bool parent_dirscan_ = false;
    int merge_depth_ = 0;
    Provenance src_;

    bool cvs_loaded_ = false;
    bool saw_dir_merge_ = false;
    bool saw_xattr_filter_ = false;
    bool io_error_ = false;
    std::vector<FilterMessage> messages_;
};

} // namespace ocr::transfer
