// SPDX-License-Identifier: MIT
// The option table data: every row of upstream's long_options, plus the --info/--debug words.
#include "daemon/option_table.hpp"

#include <array>

namespace ocr::daemon {
namespace {

// Linux values of AF_INET / AF_INET6, which upstream stores for --ipv4 / --ipv6.
constexpr int kAfInet = 2;
constexpr int kAfInet6 = 10;

// Upstream: options.c long_options. Row order and count matter: a refused row is reported
// by its index, and "first match wins" lookups depend on the order.
// Columns: long name, short name, kind, destination, constant/action, exact-only, meaningful.
constexpr std::array<OptionSpec, 258> kTable{{
    {"help", '\0', ArgKind::None, OptVar::None, act::kHelp, false, true},
    {"version", 'V', ArgKind::None, OptVar::None, 'V', false, true},
    {"verbose", 'v', ArgKind::None, OptVar::None, 'v', false, true},
    {"no-verbose", '\0', ArgKind::Val, OptVar::Verbose, 0, false, true},
    {"no-v", '\0', ArgKind::Val, OptVar::Verbose, 0, false, true},
    {"info", '\0', ArgKind::String, OptVar::None, act::kInfo, false, true},
    {"debug", '\0', ArgKind::String, OptVar::None, act::kDebug, false, true},
    {"stderr", '\0', ArgKind::String, OptVar::None, act::kStderr, false, false},
    {"msgs2stderr", '\0', ArgKind::Val, OptVar::Msgs2stderr, 1, false, false},
    {"no-msgs2stderr", '\0', ArgKind::Val, OptVar::Msgs2stderr, 0, false, false},
    {"quiet", 'q', ArgKind::None, OptVar::None, 'q', false, true},
    {"motd", '\0', ArgKind::Val, OptVar::OutputMotd, 1, false, false},
    {"no-motd", '\0', ArgKind::Val, OptVar::OutputMotd, 0, false, false},
    {"stats", '\0', ArgKind::None, OptVar::DoStats, 0, false, true},
    {"human-readable", 'h', ArgKind::None, OptVar::None, 'h', false, false},
    {"no-human-readable", '\0', ArgKind::Val, OptVar::HumanReadable, 0, false, false},
    {"no-h", '\0', ArgKind::Val, OptVar::HumanReadable, 0, false, false},
    {"dry-run", 'n', ArgKind::None, OptVar::DryRun, 0, true, true},
    {"archive", 'a', ArgKind::None, OptVar::None, 'a', false, true},
    {"recursive", 'r', ArgKind::Val, OptVar::Recurse, 2, false, true},
    {"no-recursive", '\0', ArgKind::Val, OptVar::Recurse, 0, false, true},
    {"no-r", '\0', ArgKind::Val, OptVar::Recurse, 0, false, true},
    {"inc-recursive", '\0', ArgKind::Val, OptVar::AllowIncRecurse, 1, false, true},
    {"no-inc-recursive", '\0', ArgKind::Val, OptVar::AllowIncRecurse, 0, false, true},
    {"i-r", '\0', ArgKind::Val, OptVar::AllowIncRecurse, 1, false, true},
    {"no-i-r", '\0', ArgKind::Val, OptVar::AllowIncRecurse, 0, false, true},
    {"dirs", 'd', ArgKind::Val, OptVar::XferDirs, 2, false, true},
    {"no-dirs", '\0', ArgKind::Val, OptVar::XferDirs, 0, false, true},
    {"no-d", '\0', ArgKind::Val, OptVar::XferDirs, 0, false, true},
    {"old-dirs", '\0', ArgKind::Val, OptVar::XferDirs, 4, false, true},
    {"old-d", '\0', ArgKind::Val, OptVar::XferDirs, 4, false, true},
    {"perms", 'p', ArgKind::Val, OptVar::PreservePerms, 1, false, true},
    {"no-perms", '\0', ArgKind::Val, OptVar::PreservePerms, 0, false, true},
    {"no-p", '\0', ArgKind::Val, OptVar::PreservePerms, 0, false, true},
    {"executability", 'E', ArgKind::None, OptVar::PreserveExecutability, 0, false, true},
    {"acls", 'A', ArgKind::None, OptVar::None, 'A', false, true},
    {"no-acls", '\0', ArgKind::Val, OptVar::PreserveAcls, 0, false, true},
    {"no-A", '\0', ArgKind::Val, OptVar::PreserveAcls, 0, false, true},
    {"xattrs", 'X', ArgKind::None, OptVar::None, 'X', false, true},
    {"no-xattrs", '\0', ArgKind::Val, OptVar::PreserveXattrs, 0, false, true},
    {"no-X", '\0', ArgKind::Val, OptVar::PreserveXattrs, 0, false, true},
    {"times", 't', ArgKind::Val, OptVar::PreserveMtimes, 1, false, true},
    {"no-times", '\0', ArgKind::Val, OptVar::PreserveMtimes, 0, false, true},
    {"no-t", '\0', ArgKind::Val, OptVar::PreserveMtimes, 0, false, true},
    {"atimes", 'U', ArgKind::None, OptVar::None, 'U', false, true},
    {"no-atimes", '\0', ArgKind::Val, OptVar::PreserveAtimes, 0, false, true},
    {"no-U", '\0', ArgKind::Val, OptVar::PreserveAtimes, 0, false, true},
    {"open-noatime", '\0', ArgKind::Val, OptVar::OpenNoatime, 1, false, true},
    {"no-open-noatime", '\0', ArgKind::Val, OptVar::OpenNoatime, 0, false, true},
    {"crtimes", 'N', ArgKind::Val, OptVar::PreserveCrtimes, 1, false, true},
    {"no-crtimes", '\0', ArgKind::Val, OptVar::PreserveCrtimes, 0, false, true},
    {"no-N", '\0', ArgKind::Val, OptVar::PreserveCrtimes, 0, false, true},
    {"omit-dir-times", 'O', ArgKind::Val, OptVar::OmitDirTimes, 1, false, true},
    {"no-omit-dir-times", '\0', ArgKind::Val, OptVar::OmitDirTimes, 0, false, true},
    {"no-O", '\0', ArgKind::Val, OptVar::OmitDirTimes, 0, false, true},
    {"omit-link-times", 'J', ArgKind::Val, OptVar::OmitLinkTimes, 1, false, true},
    {"no-omit-link-times", '\0', ArgKind::Val, OptVar::OmitLinkTimes, 0, false, true},
    {"no-J", '\0', ArgKind::Val, OptVar::OmitLinkTimes, 0, false, true},
    {"modify-window", '@', ArgKind::Int, OptVar::ModifyWindow, act::kModifyWindow, false, true},
    {"super", '\0', ArgKind::Val, OptVar::AmRoot, 2, false, true},
    {"no-super", '\0', ArgKind::Val, OptVar::AmRoot, 0, false, true},
    {"fake-super", '\0', ArgKind::Val, OptVar::AmRoot, -1, false, true},
    {"owner", 'o', ArgKind::Val, OptVar::PreserveUid, 1, false, true},
    {"no-owner", '\0', ArgKind::Val, OptVar::PreserveUid, 0, false, true},
    {"no-o", '\0', ArgKind::Val, OptVar::PreserveUid, 0, false, true},
    {"group", 'g', ArgKind::Val, OptVar::PreserveGid, 1, false, true},
    {"no-group", '\0', ArgKind::Val, OptVar::PreserveGid, 0, false, true},
    {"no-g", '\0', ArgKind::Val, OptVar::PreserveGid, 0, false, true},
    {"", 'D', ArgKind::None, OptVar::None, 'D', false, true},
    {"no-D", '\0', ArgKind::None, OptVar::None, act::kNoD, false, true},
    {"devices", '\0', ArgKind::Val, OptVar::PreserveDevices, 1, false, true},
    {"no-devices", '\0', ArgKind::Val, OptVar::PreserveDevices, 0, false, true},
    {"copy-devices", '\0', ArgKind::None, OptVar::CopyDevices, 0, true, true},
    {"write-devices", '\0', ArgKind::Val, OptVar::WriteDevices, 1, true, true},
    {"no-write-devices", '\0', ArgKind::Val, OptVar::WriteDevices, 0, false, true},
    {"specials", '\0', ArgKind::Val, OptVar::PreserveSpecials, 1, false, true},
    {"no-specials", '\0', ArgKind::Val, OptVar::PreserveSpecials, 0, false, true},
    {"drop-D", '\0', ArgKind::Val, OptVar::DropDevices, 1, false, true},
    {"no-drop-D", '\0', ArgKind::Val, OptVar::DropDevices, 0, false, true},
    {"confine-root", '\0', ArgKind::String, OptVar::ConfineRoot, 0, false, false},
    {"links", 'l', ArgKind::Val, OptVar::PreserveLinks, 1, false, true},
    {"no-links", '\0', ArgKind::Val, OptVar::PreserveLinks, 0, false, true},
    {"no-l", '\0', ArgKind::Val, OptVar::PreserveLinks, 0, false, true},
    {"copy-links", 'L', ArgKind::None, OptVar::CopyLinks, 0, false, true},
    {"copy-unsafe-links", '\0', ArgKind::None, OptVar::CopyUnsafeLinks, 0, false, true},
    {"safe-links", '\0', ArgKind::None, OptVar::SafeSymlinks, 0, false, true},
    {"insecure-links", '\0', ArgKind::Val, OptVar::InsecureLinks, 1, false, true},
    {"no-insecure-links", '\0', ArgKind::Val, OptVar::InsecureLinks, 0, false, true},
    {"munge-links", '\0', ArgKind::Val, OptVar::MungeSymlinks, 1, false, false},
    {"no-munge-links", '\0', ArgKind::Val, OptVar::MungeSymlinks, 0, false, false},
    {"copy-dirlinks", 'k', ArgKind::None, OptVar::CopyDirlinks, 0, false, true},
    {"keep-dirlinks", 'K', ArgKind::None, OptVar::KeepDirlinks, 0, false, true},
    {"hard-links", 'H', ArgKind::None, OptVar::None, 'H', false, true},
    {"no-hard-links", '\0', ArgKind::Val, OptVar::PreserveHardLinks, 0, false, true},
    {"no-H", '\0', ArgKind::Val, OptVar::PreserveHardLinks, 0, false, true},
    {"relative", 'R', ArgKind::Val, OptVar::RelativePaths, 1, false, true},
    {"no-relative", '\0', ArgKind::Val, OptVar::RelativePaths, 0, false, true},
    {"no-R", '\0', ArgKind::Val, OptVar::RelativePaths, 0, false, true},
    {"implied-dirs", '\0', ArgKind::Val, OptVar::ImpliedDirs, 1, false, true},
    {"no-implied-dirs", '\0', ArgKind::Val, OptVar::ImpliedDirs, 0, false, true},
    {"i-d", '\0', ArgKind::Val, OptVar::ImpliedDirs, 1, false, true},
    {"no-i-d", '\0', ArgKind::Val, OptVar::ImpliedDirs, 0, false, true},
    {"chmod", '\0', ArgKind::String, OptVar::None, act::kChmod, false, true},
    {"ignore-times", 'I', ArgKind::None, OptVar::IgnoreTimes, 0, false, true},
    {"size-only", '\0', ArgKind::None, OptVar::SizeOnly, 0, false, true},
    {"one-file-system", 'x', ArgKind::None, OptVar::None, 'x', false, true},
    {"no-one-file-system", '\0', ArgKind::Val, OptVar::OneFileSystem, 0, false, true},
    {"no-x", '\0', ArgKind::Val, OptVar::OneFileSystem, 0, false, true},
    {"update", 'u', ArgKind::None, OptVar::UpdateOnly, 0, false, true},
    {"existing", '\0', ArgKind::None, OptVar::IgnoreNonExisting, 0, false, true},
    {"ignore-non-existing", '\0', ArgKind::None, OptVar::IgnoreNonExisting, 0, false, true},
    {"ignore-existing", '\0', ArgKind::None, OptVar::IgnoreExisting, 0, false, true},
    {"max-size", '\0', ArgKind::String, OptVar::MaxSizeArg, act::kMaxSize, false, true},
    {"min-size", '\0', ArgKind::String, OptVar::MinSizeArg, act::kMinSize, false, true},
    {"max-alloc", '\0', ArgKind::String, OptVar::MaxAllocArg, 0, false, true},
    {"sparse", 'S', ArgKind::Val, OptVar::SparseFiles, 1, false, true},
    {"no-sparse", '\0', ArgKind::Val, OptVar::SparseFiles, 0, false, true},
    {"no-S", '\0', ArgKind::Val, OptVar::SparseFiles, 0, false, true},
    {"preallocate", '\0', ArgKind::None, OptVar::PreallocateFiles, 0, false, true},
    {"inplace", '\0', ArgKind::Val, OptVar::Inplace, 1, false, true},
    {"no-inplace", '\0', ArgKind::Val, OptVar::Inplace, 0, false, true},
    {"append", '\0', ArgKind::None, OptVar::None, act::kAppend, false, true},
    {"append-verify", '\0', ArgKind::Val, OptVar::AppendMode, 2, false, true},
    {"no-append", '\0', ArgKind::Val, OptVar::AppendMode, 0, false, true},
    {"del", '\0', ArgKind::None, OptVar::DeleteDuring, 0, false, true},
    {"delete", '\0', ArgKind::None, OptVar::DeleteMode, 0, false, true},
    {"delete-before", '\0', ArgKind::None, OptVar::DeleteBefore, 0, false, true},
    {"delete-during", '\0', ArgKind::Val, OptVar::DeleteDuring, 1, false, true},
    {"delete-delay", '\0', ArgKind::Val, OptVar::DeleteDuring, 2, false, true},
    {"delete-after", '\0', ArgKind::None, OptVar::DeleteAfter, 0, false, true},
    {"delete-excluded", '\0', ArgKind::None, OptVar::DeleteExcluded, 0, false, true},
    {"delete-missing-args", '\0', ArgKind::BitSet, OptVar::MissingArgs, 2, false, true},
    {"ignore-missing-args", '\0', ArgKind::BitSet, OptVar::MissingArgs, 1, false, true},
    {"remove-sent-files", '\0', ArgKind::Val, OptVar::RemoveSourceFiles, 2, false, true},
    {"remove-source-files", '\0', ArgKind::Val, OptVar::RemoveSourceFiles, 1, false, true},
    {"force", '\0', ArgKind::Val, OptVar::ForceDelete, 1, false, true},
    {"no-force", '\0', ArgKind::Val, OptVar::ForceDelete, 0, false, true},
    {"ignore-errors", '\0', ArgKind::Val, OptVar::IgnoreErrors, 1, false, true},
    {"no-ignore-errors", '\0', ArgKind::Val, OptVar::IgnoreErrors, 0, false, true},
    {"max-delete", '\0', ArgKind::Int, OptVar::MaxDelete, 0, false, true},
    {"", 'F', ArgKind::None, OptVar::None, 'F', false, true},
    {"filter", 'f', ArgKind::String, OptVar::None, act::kFilter, false, true},
    {"exclude", '\0', ArgKind::String, OptVar::None, act::kExclude, false, true},
    {"include", '\0', ArgKind::String, OptVar::None, act::kInclude, false, true},
    {"exclude-from", '\0', ArgKind::String, OptVar::None, act::kExcludeFrom, false, true},
    {"include-from", '\0', ArgKind::String, OptVar::None, act::kIncludeFrom, false, true},
    {"cvs-exclude", 'C', ArgKind::None, OptVar::CvsExclude, 0, false, true},
    {"whole-file", 'W', ArgKind::Val, OptVar::WholeFile, 1, false, true},
    {"no-whole-file", '\0', ArgKind::Val, OptVar::WholeFile, 0, false, true},
    {"no-W", '\0', ArgKind::Val, OptVar::WholeFile, 0, false, true},
    {"checksum", 'c', ArgKind::Val, OptVar::AlwaysChecksum, 1, false, true},
    {"no-checksum", '\0', ArgKind::Val, OptVar::AlwaysChecksum, 0, false, true},
    {"no-c", '\0', ArgKind::Val, OptVar::AlwaysChecksum, 0, false, true},
    {"checksum-choice", '\0', ArgKind::String, OptVar::ChecksumChoice, 0, false, true},
    {"cc", '\0', ArgKind::String, OptVar::ChecksumChoice, 0, false, true},
    {"block-size", 'B', ArgKind::String, OptVar::None, act::kBlockSize, false, true},
    {"compare-dest", '\0', ArgKind::String, OptVar::None, act::kCompareDest, false, true},
    {"copy-dest", '\0', ArgKind::String, OptVar::None, act::kCopyDest, false, true},
    {"link-dest", '\0', ArgKind::String, OptVar::None, act::kLinkDest, false, true},
    {"fuzzy", 'y', ArgKind::None, OptVar::None, 'y', false, true},
    {"no-fuzzy", '\0', ArgKind::Val, OptVar::FuzzyBasis, 0, false, true},
    {"no-y", '\0', ArgKind::Val, OptVar::FuzzyBasis, 0, false, true},
    {"compress", 'z', ArgKind::None, OptVar::None, 'z', false, true},
    {"old-compress", '\0', ArgKind::None, OptVar::None, act::kOldCompress, false, true},
    {"new-compress", '\0', ArgKind::None, OptVar::None, act::kNewCompress, false, true},
    {"no-compress", '\0', ArgKind::None, OptVar::None, act::kNoCompress, false, true},
    {"no-z", '\0', ArgKind::None, OptVar::None, act::kNoCompress, false, true},
    {"compress-choice", '\0', ArgKind::String, OptVar::CompressChoice, 0, false, true},
    {"zc", '\0', ArgKind::String, OptVar::CompressChoice, 0, false, true},
    {"skip-compress", '\0', ArgKind::String, OptVar::SkipCompress, 0, false, true},
    {"compress-level", '\0', ArgKind::Int, OptVar::CompressionLevel, 0, false, true},
    {"zl", '\0', ArgKind::Int, OptVar::CompressionLevel, 0, false, true},
    {"compress-threads", '\0', ArgKind::Int, OptVar::CompressionThreads, 0, false, true},
    {"zt", '\0', ArgKind::Int, OptVar::CompressionThreads, 0, false, true},
    {"", 'P', ArgKind::None, OptVar::None, 'P', false, true},
    {"progress", '\0', ArgKind::Val, OptVar::DoProgress, 1, false, false},
    {"no-progress", '\0', ArgKind::Val, OptVar::DoProgress, 0, false, false},
    {"partial", '\0', ArgKind::Val, OptVar::KeepPartial, 1, false, true},
    {"no-partial", '\0', ArgKind::Val, OptVar::KeepPartial, 0, false, true},
    {"partial-dir", '\0', ArgKind::String, OptVar::PartialDir, 0, false, true},
    {"delay-updates", '\0', ArgKind::Val, OptVar::DelayUpdates, 1, false, true},
    {"no-delay-updates", '\0', ArgKind::Val, OptVar::DelayUpdates, 0, false, true},
    {"prune-empty-dirs", 'm', ArgKind::Val, OptVar::PruneEmptyDirs, 1, false, true},
    {"no-prune-empty-dirs", '\0', ArgKind::Val, OptVar::PruneEmptyDirs, 0, false, true},
    {"no-m", '\0', ArgKind::Val, OptVar::PruneEmptyDirs, 0, false, true},
    {"log-file", '\0', ArgKind::String, OptVar::LogfileName, 0, false, false},
    {"log-file-format", '\0', ArgKind::String, OptVar::LogfileFormat, 0, false, false},
    {"out-format", '\0', ArgKind::String, OptVar::StdoutFormat, 0, false, true},
    {"log-format", '\0', ArgKind::String, OptVar::StdoutFormat, 0, true, true},
    {"itemize-changes", 'i', ArgKind::None, OptVar::None, 'i', false, true},
    {"no-itemize-changes", '\0', ArgKind::Val, OptVar::ItemizeChanges, 0, false, true},
    {"no-i", '\0', ArgKind::Val, OptVar::ItemizeChanges, 0, false, true},
    {"bwlimit", '\0', ArgKind::String, OptVar::BwlimitArg, act::kBwlimit, false, true},
    {"no-bwlimit", '\0', ArgKind::Val, OptVar::Bwlimit, 0, false, true},
    {"backup", 'b', ArgKind::Val, OptVar::MakeBackups, 1, false, true},
    {"no-backup", '\0', ArgKind::Val, OptVar::MakeBackups, 0, false, true},
    {"backup-dir", '\0', ArgKind::String, OptVar::BackupDir, 0, false, true},
    {"suffix", '\0', ArgKind::String, OptVar::BackupSuffix, 0, false, true},
    {"list-only", '\0', ArgKind::Val, OptVar::ListOnly, 2, false, true},
    {"read-batch", '\0', ArgKind::String, OptVar::BatchName, act::kReadBatch, false, false},
    {"write-batch", '\0', ArgKind::String, OptVar::BatchName, act::kWriteBatch, false, false},
    {"only-write-batch", '\0', ArgKind::String, OptVar::BatchName, act::kOnlyWriteBatch, false,
     true},
    {"files-from", '\0', ArgKind::String, OptVar::FilesFrom, 0, false, true},
    {"from0", '0', ArgKind::Val, OptVar::EolNulls, 1, true, true},
    {"no-from0", '\0', ArgKind::Val, OptVar::EolNulls, 0, false, true},
    {"old-args", '\0', ArgKind::None, OptVar::None, act::kOldArgs, false, true},
    {"no-old-args", '\0', ArgKind::Val, OptVar::OldStyleArgs, 0, false, true},
    {"secluded-args", 's', ArgKind::Val, OptVar::ProtectArgs, 1, true, true},
    {"no-secluded-args", '\0', ArgKind::Val, OptVar::ProtectArgs, 0, false, true},
    {"protect-args", '\0', ArgKind::Val, OptVar::ProtectArgs, 1, false, true},
    {"no-protect-args", '\0', ArgKind::Val, OptVar::ProtectArgs, 0, false, true},
    {"no-s", '\0', ArgKind::Val, OptVar::ProtectArgs, 0, false, true},
    {"trust-sender", '\0', ArgKind::Val, OptVar::TrustSender, 1, false, false},
    {"numeric-ids", '\0', ArgKind::Val, OptVar::NumericIds, 1, false, true},
    {"no-numeric-ids", '\0', ArgKind::Val, OptVar::NumericIds, 0, false, true},
    {"usermap", '\0', ArgKind::String, OptVar::None, act::kUsermap, false, true},
    {"groupmap", '\0', ArgKind::String, OptVar::None, act::kGroupmap, false, true},
    {"chown", '\0', ArgKind::String, OptVar::None, act::kChown, false, true},
    {"timeout", '\0', ArgKind::Int, OptVar::IoTimeout, 0, false, true},
    {"no-timeout", '\0', ArgKind::Val, OptVar::IoTimeout, 0, false, true},
    {"contimeout", '\0', ArgKind::Int, OptVar::ConnectTimeout, 0, false, false},
    {"no-contimeout", '\0', ArgKind::Val, OptVar::ConnectTimeout, 0, false, false},
    {"fsync", '\0', ArgKind::None, OptVar::DoFsync, 0, false, true},
    {"stop-after", '\0', ArgKind::String, OptVar::None, act::kStopAfter, false, true},
    {"time-limit", '\0', ArgKind::String, OptVar::None, act::kStopAfter, false, true},
    {"stop-at", '\0', ArgKind::String, OptVar::None, act::kStopAt, false, true},
    {"rsh", 'e', ArgKind::String, OptVar::ShellCmd, 0, true, true},
    {"rsync-path", '\0', ArgKind::String, OptVar::RsyncPath, 0, false, false},
    {"temp-dir", 'T', ArgKind::String, OptVar::Tmpdir, 0, false, true},
    {"iconv", '\0', ArgKind::String, OptVar::IconvOpt, 0, true, true},
    {"no-iconv", '\0', ArgKind::None, OptVar::None, act::kNoIconv, true, true},
    {"ipv4", '4', ArgKind::Val, OptVar::DefaultAfHint, kAfInet, false, false},
    {"ipv6", '6', ArgKind::Val, OptVar::DefaultAfHint, kAfInet6, false, false},
    {"8-bit-output", '8', ArgKind::Val, OptVar::Allow8bitChars, 1, false, false},
    {"no-8-bit-output", '\0', ArgKind::Val, OptVar::Allow8bitChars, 0, false, false},
    {"no-8", '\0', ArgKind::Val, OptVar::Allow8bitChars, 0, false, false},
    {"mkpath", '\0', ArgKind::Val, OptVar::MkpathDestArg, 1, false, true},
    {"no-mkpath", '\0', ArgKind::Val, OptVar::MkpathDestArg, 0, false, true},
    {"qsort", '\0', ArgKind::None, OptVar::UseQsort, 0, false, true},
    {"copy-as", '\0', ArgKind::String, OptVar::CopyAs, 0, false, true},
    {"address", '\0', ArgKind::String, OptVar::BindAddress, 0, false, false},
    {"port", '\0', ArgKind::Int, OptVar::RsyncPort, 0, false, false},
    {"sockopts", '\0', ArgKind::String, OptVar::Sockopts, 0, false, false},
    {"password-file", '\0', ArgKind::String, OptVar::PasswordFile, 0, false, false},
    {"early-input", '\0', ArgKind::String, OptVar::EarlyInputFile, 0, false, false},
    {"blocking-io", '\0', ArgKind::Val, OptVar::BlockingIo, 1, false, false},
    {"no-blocking-io", '\0', ArgKind::Val, OptVar::BlockingIo, 0, false, false},
    {"outbuf", '\0', ArgKind::String, OptVar::OutbufMode, 0, false, false},
    {"remote-option", 'M', ArgKind::String, OptVar::None, 'M', false, false},
    {"protocol", '\0', ArgKind::Int, OptVar::ProtocolVersion, 0, false, true},
    {"checksum-seed", '\0', ArgKind::Int, OptVar::ChecksumSeed, 0, true, true},
    {"server", '\0', ArgKind::None, OptVar::None, act::kServer, true, true},
    {"sender", '\0', ArgKind::None, OptVar::None, act::kSender, true, true},
    {"config", '\0', ArgKind::String, OptVar::None, act::kDaemon, false, false},
    {"daemon", '\0', ArgKind::None, OptVar::None, act::kDaemon, false, false},
    {"dparam", '\0', ArgKind::String, OptVar::None, act::kDaemon, false, false},
    {"detach", '\0', ArgKind::None, OptVar::None, act::kDaemon, false, false},
    {"no-detach", '\0', ArgKind::None, OptVar::None, act::kDaemon, false, false},
}};

// Upstream: options.c info_words (index = INFO_* value).
constexpr std::array<OutputWord, 13> kInfoWords{{
    {"BACKUP", kWhereReceiver},
    {"COPY", kWhereReceiver},
    {"DEL", kWhereReceiver},
    {"FLIST", kWhereClient},
    {"MISC", kWhereSender | kWhereReceiver},
    {"MOUNT", kWhereSender | kWhereReceiver},
    {"NAME", kWhereSender | kWhereReceiver},
    {"NONREG", kWhereReceiver},
    {"PROGRESS", kWhereClient},
    {"REMOVE", kWhereSender},
    {"SKIP", kWhereReceiver},
    {"STATS", kWhereClient | kWhereServer},
    {"SYMSAFE", kWhereSender | kWhereReceiver},
}};

// Upstream: options.c debug_words (index = DEBUG_* value).
constexpr std::array<OutputWord, 24> kDebugWords{{
    {"ACL", kWhereSender | kWhereReceiver},
    {"BACKUP", kWhereReceiver},
    {"BIND", kWhereClient},
    {"CHDIR", kWhereClient | kWhereServer},
    {"CONNECT", kWhereClient},
    {"CMD", kWhereClient},
    {"DEL", kWhereReceiver},
    {"DELTASUM", kWhereSender | kWhereReceiver},
    {"DUP", kWhereReceiver},
    {"EXIT", kWhereClient | kWhereServer},
    {"FILTER", kWhereSender | kWhereReceiver},
    {"FLIST", kWhereSender | kWhereReceiver},
    {"FUZZY", kWhereReceiver},
    {"GENR", kWhereReceiver},
    {"HASH", kWhereSender | kWhereReceiver},
    {"HLINK", kWhereSender | kWhereReceiver},
    {"ICONV", kWhereClient | kWhereServer},
    {"IO", kWhereClient | kWhereServer},
    {"NSTR", kWhereClient | kWhereServer},
    {"OWN", kWhereReceiver},
    {"PROTO", kWhereClient | kWhereServer},
    {"RECV", kWhereReceiver},
    {"SEND", kWhereSender},
    {"TIME", kWhereReceiver},
}};

// Upstream: options.c info_verbosity / debug_verbosity (words added at each -v level).
constexpr std::array<std::string_view, kMaxVerbosity + 1> kInfoVerbosity{{
    "NONREG",
    "COPY,DEL,FLIST,MISC,NAME,STATS,SYMSAFE",
    "BACKUP,MISC2,MOUNT,NAME2,REMOVE,SKIP",
    "",
    "",
    "",
}};

constexpr std::array<std::string_view, kMaxVerbosity + 1> kDebugVerbosity{{
    "",
    "",
    "BIND,CMD,CONNECT,DEL,DELTASUM,DUP,FILTER,FLIST,ICONV",
    "ACL,BACKUP,CONNECT2,DELTASUM2,DEL2,EXIT,FILTER2,FLIST2,FUZZY,GENR,OWN,RECV,SEND,TIME",
    "CMD2,DELTASUM3,DEL3,EXIT2,FLIST3,ICONV2,OWN2,PROTO,TIME2",
    "CHDIR,DELTASUM4,FLIST4,FUZZY2,HASH,HLINK",
}};

} // namespace

std::span<const OptionSpec> option_table() noexcept
{
    return kTable;
}

std::optional<std::size_t> find_long_option(std::string_view name) noexcept
{
    // An empty name never matches: short-only rows have no long name to compare.
    if (name.empty())
        return std::nullopt;
    for (std::size_t i = 0; i < kTable.size(); ++i) {
        if (kTable[i].long_name == name)
            return i;
    }
    return std::nullopt;
}

std::optional<std::size_t> find_short_option(char c) noexcept
{
    if (c == '\0')
        return std::nullopt;
    for (std::size_t i = 0; i < kTable.size(); ++i) {
        if (kTable[i].short_name == c)
            return i;
    }
    return std::nullopt;
}

std::span<const OutputWord> info_words() noexcept
{
    return kInfoWords;
}

std::span<const OutputWord> debug_words() noexcept
{
    return kDebugWords;
}

std::string_view info_verbosity(int level) noexcept
{
    if (level < 0 || level > kMaxVerbosity)
        return {};
    return kInfoVerbosity[static_cast<std::size_t>(level)];
}

std::string_view debug_verbosity(int level) noexcept
{
    if (level < 0 || level > kMaxVerbosity)
        return {};
    return kDebugVerbosity[static_cast<std::size_t>(level)];
}

} // namespace ocr::daemon
