// SPDX-License-Identifier: MIT
// The rsync option table (upstream's popt long_options), shared by refuse matching and parsing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace ocr::daemon {

/// @brief How a table row takes its value (upstream's popt argInfo kinds used by rsync).
enum class ArgKind : std::uint8_t {
    None,   ///< no argument; with a destination, stores 1 (POPT_ARG_NONE)
    Val,    ///< no argument; stores the row's constant (POPT_ARG_VAL)
    BitSet, ///< no argument; ORs the row's constant in (POPT_BIT_SET)
    String, ///< takes a string argument (POPT_ARG_STRING)
    Int,    ///< takes an integer argument, parsed like strtoll(..., 0) (POPT_ARG_INT)
};

/// @brief The destination variable a row writes (upstream's popt `arg` pointer), or None.
/// Two rows that write the same variable with the same constant are "the same capability"
/// for refuse matching (upstream: options.c:same_refuse_action).
enum class OptVar : std::uint8_t {
    None,
    // integer variables
    Verbose, Msgs2stderr, OutputMotd, DoStats, HumanReadable, DryRun, Recurse, AllowIncRecurse,
    XferDirs, PreservePerms, PreserveExecutability, PreserveAcls, PreserveXattrs, PreserveMtimes,
    PreserveAtimes, OpenNoatime, PreserveCrtimes, OmitDirTimes, OmitLinkTimes, ModifyWindow, AmRoot,
    PreserveUid, PreserveGid, PreserveDevices, CopyDevices, WriteDevices, PreserveSpecials,
    DropDevices, PreserveLinks, CopyLinks, CopyUnsafeLinks, SafeSymlinks, InsecureLinks,
    MungeSymlinks, CopyDirlinks, KeepDirlinks, PreserveHardLinks, RelativePaths, ImpliedDirs,
    IgnoreTimes, SizeOnly, OneFileSystem, UpdateOnly, IgnoreNonExisting, IgnoreExisting,
    SparseFiles, PreallocateFiles, Inplace, AppendMode, DeleteDuring, DeleteMode, DeleteBefore,
    DeleteAfter, DeleteExcluded, MissingArgs, RemoveSourceFiles, ForceDelete, IgnoreErrors,
    MaxDelete, CvsExclude, WholeFile, AlwaysChecksum, FuzzyBasis, CompressionLevel,
    CompressionThreads, DoProgress, KeepPartial, DelayUpdates, PruneEmptyDirs, ItemizeChanges,
    Bwlimit, MakeBackups, ListOnly, EolNulls, OldStyleArgs, ProtectArgs, TrustSender, NumericIds,
    IoTimeout, ConnectTimeout, DoFsync, DefaultAfHint, Allow8bitChars, MkpathDestArg, UseQsort,
    RsyncPort, BlockingIo, ProtocolVersion, ChecksumSeed,
    // string variables (first string variable must stay ConfineRoot: see is_string_var)
    ConfineRoot, MaxSizeArg, MinSizeArg, MaxAllocArg, ChecksumChoice, CompressChoice,
    SkipCompress, PartialDir, LogfileName, LogfileFormat, StdoutFormat, BwlimitArg, BackupDir,
    BackupSuffix, BatchName, FilesFrom, ShellCmd, RsyncPath, Tmpdir, IconvOpt, CopyAs,
    BindAddress, Sockopts, PasswordFile, EarlyInputFile, OutbufMode,
};

/// @brief True when @p v names a string variable rather than an integer one.
[[nodiscard]] constexpr bool is_string_var(OptVar v) noexcept
{
    return v >= OptVar::ConfineRoot;
}

/// @brief Parser actions of rows that the option loop handles itself (upstream's OPT_* codes
/// and the letters returned by popt). Values mirror upstream so that "same action code" keeps
/// its meaning; 0 means "no action" (the row only stores into its variable).
namespace act {
inline constexpr int kNone = 0;
inline constexpr int kServer = 1000;
inline constexpr int kDaemon = 1001;
inline constexpr int kSender = 1002;
inline constexpr int kExclude = 1003;
inline constexpr int kExcludeFrom = 1004;
inline constexpr int kFilter = 1005;
inline constexpr int kCompareDest = 1006;
inline constexpr int kCopyDest = 1007;
inline constexpr int kLinkDest = 1008;
inline constexpr int kHelp = 1009;
inline constexpr int kInclude = 1010;
inline constexpr int kIncludeFrom = 1011;
inline constexpr int kModifyWindow = 1012;
inline constexpr int kMinSize = 1013;
inline constexpr int kChmod = 1014;
inline constexpr int kReadBatch = 1015;
inline constexpr int kWriteBatch = 1016;
inline constexpr int kOnlyWriteBatch = 1017;
inline constexpr int kMaxSize = 1018;
inline constexpr int kNoD = 1019;
inline constexpr int kAppend = 1020;
inline constexpr int kNoIconv = 1021;
inline constexpr int kInfo = 1022;
inline constexpr int kDebug = 1023;
inline constexpr int kBlockSize = 1024;
inline constexpr int kUsermap = 1025;
inline constexpr int kGroupmap = 1026;
inline constexpr int kChown = 1027;
inline constexpr int kBwlimit = 1028;
inline constexpr int kStderr = 1029;
inline constexpr int kOldCompress = 1030;
inline constexpr int kNewCompress = 1031;
inline constexpr int kNoCompress = 1032;
inline constexpr int kOldArgs = 1033;
inline constexpr int kStopAfter = 1034;
inline constexpr int kStopAt = 1035;
/// Base added to a row index when refuse options disable it (upstream OPT_REFUSED_BASE).
inline constexpr int kRefusedBase = 9000;
} // namespace act

/// @brief One row of the option table, in upstream's order.
struct OptionSpec {
    std::string_view long_name; ///< empty for the short-only rows (-D, -F, -P)
    char short_name;            ///< '\0' for long-only rows
    ArgKind kind;
    OptVar var;                 ///< destination, or OptVar::None
    int val;                    ///< stored constant (Val/BitSet) or action code (others)
    bool refuse_exact_only;     ///< wildcards in "refuse options" never match this row
    bool server_meaningful;     ///< changes what a server does (false: parsed but client-only)
};

/// @brief The whole table in upstream order (index = position, as upstream's refused codes use).
[[nodiscard]] std::span<const OptionSpec> option_table() noexcept;

/// @brief First row whose long name equals @p name exactly (popt does no prefix matching).
[[nodiscard]] std::optional<std::size_t> find_long_option(std::string_view name) noexcept;

/// @brief First row whose short name is @p c.
[[nodiscard]] std::optional<std::size_t> find_short_option(char c) noexcept;

/// @brief One --info or --debug word (upstream: options.c info_words / debug_words).
struct OutputWord {
    std::string_view name;
    std::uint8_t where; ///< bit set of kWhere* values
};

inline constexpr std::uint8_t kWhereClient = 1;   ///< W_CLI
inline constexpr std::uint8_t kWhereServer = 2;   ///< W_SRV
inline constexpr std::uint8_t kWhereSender = 4;   ///< W_SND
inline constexpr std::uint8_t kWhereReceiver = 8; ///< W_REC

/// @brief The --info words, in upstream order (index = upstream's INFO_* value).
[[nodiscard]] std::span<const OutputWord> info_words() noexcept;
/// @brief The --debug words, in upstream order (index = upstream's DEBUG_* value).
[[nodiscard]] std::span<const OutputWord> debug_words() noexcept;

/// @brief Highest -v level that adds output words (upstream MAX_VERBOSITY).
inline constexpr int kMaxVerbosity = 5;
/// @brief Largest level a single word can get (upstream MAX_OUT_LEVEL).
inline constexpr int kMaxOutLevel = 4;

/// @brief Info words implied by verbosity @p level (0..kMaxVerbosity), or "" for none.
[[nodiscard]] std::string_view info_verbosity(int level) noexcept;
/// @brief Debug words implied by verbosity @p level (0..kMaxVerbosity), or "" for none.
[[nodiscard]] std::string_view debug_verbosity(int level) noexcept;

} // namespace ocr::daemon
