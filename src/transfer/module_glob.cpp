// SPDX-License-Identifier: MIT
#include "transfer/module_glob.hpp"

#include "common/wildmatch.hpp"

#include <sys/stat.h>

#include <cerrno>

namespace ocr::transfer {
namespace {

// Bounds what one argument can expand to (upstream has none; a client could otherwise
// make us hold every name of a huge tree several times over).
constexpr std::size_t kMaxMatches = 1u << 20;

class Globber {
public:
    Globber(const ModuleFs& fs, const FilterSet& filters, std::vector<std::string>& out)
        : fs_(fs), filters_(filters), out_(out)
    {
    }

    // Upstream glob_match: @p arg is what is left of the pattern; arg_ is the expansion
    // so far, filt_ the same without leading "./" components (what the filter sees), or
    // unset while the two are the same.
    void match(std::string_view arg)
    {
        while (arg.size() >= 2 && arg[0] == '.' && arg[1] == '/') {
            if (!filt_)
                filt_ = arg_;
            arg_ += "./";
            arg.remove_prefix(2);
        }
        const std::size_t slash = arg.find('/');
        const std::string_view part = arg.substr(0, slash);
        const std::optional<std::string_view> rest =
            slash == std::string_view::npos ? std::nullopt : std::optional<std::string_view>(arg.substr(slash + 1));
        if (part.find_first_of("*?[") != std::string_view::npos) {
            UniqueFd dir = fs_.open_dir(arg_.empty() ? std::string_view(".") : std::string_view(arg_));
            if (!dir)
                return;
            auto names = fs_.list_dir(dir.get());
            if (!names)
                return;
            const std::string pattern(part);
            for (const std::string& name : *names) {
                if (!wildmatch(pattern, name))
                    continue;
                add(name, true, rest);
            }
        } else {
            add(part, false, rest);
        }
    }

private:
    // Upstream call_glob_match.
    void add(std::string_view name, bool from_glob, std::optional<std::string_view> rest)
    {
        if (out_.size() >= kMaxMatches)
            return;
        const std::size_t arg_len = arg_.size();
        const std::optional<std::size_t> filt_len = filt_ ? std::optional<std::size_t>(filt_->size()) : std::nullopt;
        arg_.append(name);
        if (filt_)
            filt_->append(name);
        const std::string& use = filt_ ? *filt_ : arg_;
        bool ok = true;
        if (from_glob || (rest && !name.empty())) {
            struct stat st{};
            int rc = fs_.stat(arg_, st, true);
            // A symlink leading out of the module: upstream's stat() follows it wherever it
            // points, so for the last component we ask the same question it does (does the
            // target exist?). We never list or descend through such a link.
            if (rc != 0 && errno == ELOOP && !rest)
                rc = fs_.stat_through_link(arg_, st);
            if (rc != 0) {
                ok = false;
            } else {
                const bool is_dir = S_ISDIR(st.st_mode);
                if (rest && !is_dir)
                    ok = false;
                else if (filters_.daemon_excluded(use, is_dir))
                    ok = false;
            }
        }
        if (ok) {
            if (rest) {
                arg_ += '/';
                if (filt_)
                    *filt_ += '/';
                match(*rest);
            } else {
                out_.push_back(arg_);
            }
        }
        arg_.resize(arg_len);
        if (filt_len)
            filt_->resize(*filt_len);
        else
            filt_.reset(); // a "./" below us started it; our siblings start without one
    }

    const ModuleFs& fs_;
    const FilterSet& filters_;
    std::vector<std::string>& out_;
    std::string arg_;
    std::optional<std::string> filt_;
};

} // namespace

bool glob_module_argument(const ModuleFs& fs, const FilterSet& filters, const std::string& arg,
                          std::vector<std::string>& out)
{
    const std::size_t before = out.size();
    Globber g(fs, filters, out);
    g.match(arg);
    if (out.size() == before) {
        out.push_back(arg);
        return false;
    }
    return true;
}

} // namespace ocr::transfer
