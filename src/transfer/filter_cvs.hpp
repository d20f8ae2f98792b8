// SPDX-License-Identifier: MIT
// The CVS-style default ignore list that -C (--cvs-exclude) starts from.
#pragma once

#include <string_view>

namespace ocr::transfer {

/// @brief The names -C excludes before $HOME/.cvsignore and $CVSIGNORE are added, separated
///        by spaces (upstream: usage.c:default_cvsignore, generated from rsync.1.md).
inline constexpr std::string_view kDefaultCvsIgnore =
    "RCS SCCS CVS CVS.adm RCSLOG cvslog.* tags TAGS .make.state .nse_depinfo *~ #* .#* ,* _$* "
    "*$ *.old *.bak *.BAK *.orig *.rej .del-* *.a *.olb *.o *.obj *.so *.exe *.Z *.elc *.ln "
    "core .svn/ .git/ .hg/ .bzr/";

} // namespace ocr::transfer
