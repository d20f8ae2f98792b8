// SPDX-License-Identifier: MIT
// load_config(): builds the settings from parsed items as upstream loadparm.c does.
#include "daemon/config.hpp"

#include "common/strings.hpp"
#include "daemon/config_params.hpp"
#include "daemon/config_parser.hpp"
#include "daemon/config_paths.hpp"
#include "daemon/var_expand.hpp"

#include <algorithm>
#include <cstring>
#include <unordered_map>

namespace ocr::daemon {
namespace {

// Bounds that keep a hostile or broken set of files from exhausting memory or time:
// includes can recurse and fan out (a directory whose files include the directory).
constexpr int kMaxIncludeDepth = 16;
constexpr std::size_t kMaxIncludes = 4096;
constexpr std::size_t kMaxTotalBytes = 64u << 20;
constexpr std::size_t kMaxModules = 65536;

const std::string kDparamFile = "--dparam";
const std::string kModuleOptionFile = "--module";

std::size_t param_index(const ParamInfo& p) noexcept
{
    return static_cast<std::size_t>(&p - all_params().data());
}

// The key under which upstream's section lookup (strwiEQ) sees two names as equal.
std::string section_key(std::string_view name)
{
    std::string key;
    for (char c : name) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r')
            continue;
        key.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
    }
    return key;
}

std::string quoted(std::string_view s)
{
    return "\"" + printable(s) + "\"";
}

std::string errno_text(int e)
{
    return std::strerror(e);
}

// Module parameters as they stand while parsing. Upstream keeps a NULL string apart from
// an empty one: a module string still NULL at the end falls back to the final global
// default (Upstream: loadparm.c FN_LOCAL_STRING), so a later [global] section can still
// supply it. Non-string values were copied when the module was created and stay.
struct SectionState {
    ModuleSettings settings;
    std::vector<bool> null_strings; // by parameter index

    static SectionState initial()
    {
        SectionState s;
        s.null_strings.assign(all_params().size(), false);
        for (const auto& p : all_params()) {
            if (!p.global && p.is_string()) {
                GlobalSettings unused;
                s.null_strings[param_index(p)] = format_param(p, unused, s.settings).empty();
            }
        }
        return s;
    }
};

// What an &include saves and restores: the globals and the module defaults.
// (Upstream: loadparm.c do_section "]push" / "]pop" / "]reset".)
struct DefaultsState {
    GlobalSettings globals;
    SectionState defaults = SectionState::initial();
};

class Loader final : public ConfigSyntaxHandler {
public:
    Loader(const LoadOptions& options, FileSource& files) : opts_(options), files_(files) {}

    LoadResult run()
    {
        if (!check_dparam_names())
            return finish_fatal();
        if (opts_.config_path) {
            const std::string& path = *opts_.config_path;
            if (!process_file(path, SourceLocation{path, 0}))
                return finish_fatal();
        }
        if (!dparams_applied_)
            apply_dparams();
        add_cli_modules();
        resolve_null_strings();

        std::vector<ModuleSettings> modules;
        modules.reserve(modules_.size());
        for (auto& m : modules_)
            modules.push_back(std::move(m.settings));

        read_ahead(modules);

        auto config = std::make_shared<const Config>(
            std::move(cur_.globals), std::move(cur_.defaults.settings), std::move(modules),
            opts_.environment, files_.bundle());
        return LoadResult{std::move(config), std::move(problems_)};
    }

    bool on_section(const std::string& name, int line) override
    {
        const bool is_global = names_equal(name, "global");
        // The first module header ends the global section: --dparam values go there.
        // (Upstream: loadparm.c:do_section calls set_dparams.)
        if (in_global_ && !is_global && !dparams_applied_)
            apply_dparams();
        in_global_ = is_global;
        if (is_global)
            return true;

        const SourceLocation where{file_, line};
        if (name.find('/') != std::string::npos)
            return fatal(where, "invalid module name " + quoted(name) + ": it contains '/'");

        // A header naming an existing module (compared like parameter names) reopens
        // it. (Upstream: loadparm.c:add_a_section / getsectionbyname.)
        auto it = by_key_.find(section_key(name));
        if (it != by_key_.end() && !it->second.empty()) {
            current_ = it->second.back();
            return true;
        }
        if (modules_.size() >= kMaxModules)
            return fatal(where, "too many modules (more than " + std::to_string(kMaxModules) + ")");

        SectionState m = cur_.defaults;
        set_module_name(m, name);
        m.settings.defined_at = where;
        current_ = modules_.size();
        modules_.push_back(std::move(m));
        by_key_[section_key(name)].push_back(current_);
        return true;
    }

    bool on_parameter(const std::string& name, const std::string& value, int line) override
    {
        const SourceLocation where{file_, line};
        const ParamInfo* p = find_param(name);
        if (p == nullptr) {
            problem(where, "unknown parameter " + quoted(name));
            return true;
        }
        if (in_global_) {
            set_param(*p, value, cur_.globals, cur_.defaults, where, true);
            return true;
        }
        SectionState& m = modules_[current_];
        if (p->global) {
            // Upstream logs and ignores it; a daemon-wide setting written inside a module
            // is a mistake the operator wants to hear about.
            problem(where, "global parameter " + quoted(p->label)
                               + " is not allowed in a module section (["
                               + printable(m.settings.name) + "])");
            return true;
        }
        if (p->label == "name") {
            rename_module(value, where);
            return true;
        }
        set_param(*p, value, cur_.globals, m, where, true);
        return true;
    }

    bool on_directive(const std::string& name, const std::string& value, int line) override
    {
        const SourceLocation where{file_, line};
        if (iequals(name, "&include"))
            return include(value, true, where);
        if (iequals(name, "&merge"))
            return include(value, false, where);
        return fatal(where, "unknown directive " + quoted(name) + " (expected &include or &merge)");
    }

    void on_problem(int line, const std::string& message, bool is_fatal) override
    {
        problems_.push_back(Problem{SourceLocation{file_, line}, message, Severity::Error});
        if (is_fatal)
            fatal_ = true;
    }

private:
    void problem(const SourceLocation& where, std::string message,
                 Severity severity = Severity::Error)
    {
        problems_.push_back(Problem{where, std::move(message), severity});
    }

    bool fatal(const SourceLocation& where, std::string message)
    {
        problem(where, std::move(message));
        fatal_ = true;
        return false;
    }

    LoadResult finish_fatal() { return LoadResult{nullptr, std::move(problems_)}; }

    std::optional<std::string> lookup_env(std::string_view name) const
    {
        auto it = opts_.environment.find(name);
        if (it == opts_.environment.end())
            return std::nullopt;
        return it->second;
    }

    // Stores one value. Non-string values have their %VAR%s expanded now, from the
    // daemon environment; strings are kept raw for expansion at use.
    // (Upstream: loadparm.c:do_parameter.)
    bool set_param(const ParamInfo& p, std::string_view raw, GlobalSettings& globals,
                   SectionState& section, const SourceLocation& where, bool report)
    {
        std::string value(raw);
        if (!p.is_string()) {
            try {
                value = expand_vars(raw, [this](std::string_view n) { return lookup_env(n); });
            } catch (const VarExpansionTooLong&) {
                if (report)
                    problem(where, quoted(p.label) + " value is too long after %VAR% expansion");
                return false;
            }
        }
        if (auto err = apply_param(p, value, globals, section.settings)) {
            if (report)
                problem(where, *err);
            return false;
        }
        if (p.global) {
            globals.set_at.insert_or_assign(std::string(p.label), where);
        } else {
            section.settings.set_at.insert_or_assign(std::string(p.label), where);
            if (p.is_string())
                section.null_strings[param_index(p)] = false;
        }
        return true;
    }

    // A module's name comes from its header and is never the global default's.
    static void set_module_name(SectionState& m, const std::string& name)
    {
        m.settings.name = name;
        m.settings.set_at.erase("name");
        m.null_strings[param_index(*find_param("name"))] = false;
    }

    void rename_module(const std::string& value, const SourceLocation& where)
    {
        if (value.empty() || value.find_first_of("/]") != std::string::npos) {
            problem(where, "\"name\" must be a non-empty module name without '/' or ']', got "
                               + quoted(value));
            return;
        }
        // Upstream lets "name" rename the module it appears in (lp_name() is this
        // variable); keep the header lookup in step with the new name.
        SectionState& m = modules_[current_];
        auto& old_list = by_key_[section_key(m.settings.name)];
        old_list.erase(std::remove(old_list.begin(), old_list.end(), current_), old_list.end());
        set_module_name(m, value);
        auto& new_list = by_key_[section_key(value)];
        new_list.insert(std::upper_bound(new_list.begin(), new_list.end(), current_), current_);
        m.settings.set_at.insert_or_assign("name", where);
    }

    bool check_dparam_names()
    {
        bool ok = true;
        for (std::size_t i = 0; i < opts_.dparams.size(); ++i) {
            const auto& name = opts_.dparams[i].first;
            if (find_param(name) == nullptr) {
                // Upstream refuses to start on an unknown --dparam name
                // (Upstream: options.c:parse_arguments via set_dparams(1)).
                fatal(SourceLocation{kDparamFile, static_cast<int>(i + 1)},
                      "unknown parameter " + quoted(name));
                ok = false;
            }
        }
        return ok;
    }

    // --dparam values act as lines at the end of the global section. Upstream applies them
    // when the first module header is seen; if that header is inside an &include, they
    // are also applied to the states saved by the enclosing includes, so that they
    // survive the restore at the end of the include. (Upstream: loadparm.c:set_dparams.)
    void apply_dparams()
    {
        dparams_applied_ = true;
        for (std::size_t i = 0; i < opts_.dparams.size(); ++i) {
            const auto& [name, raw] = opts_.dparams[i];
            const ParamInfo* p = find_param(name);
            if (p == nullptr)
                continue;
            // Upstream skips white space after the '=' only.
            std::string_view value = raw;
            while (!value.empty()
                   && (value.front() == ' ' || value.front() == '\t' || value.front() == '\n'
                       || value.front() == '\v' || value.front() == '\f' || value.front() == '\r'))
                value.remove_prefix(1);
            const SourceLocation where{kDparamFile, static_cast<int>(i + 1)};
            set_param(*p, value, cur_.globals, cur_.defaults, where, true);
            for (auto& saved : stack_)
                set_param(*p, value, saved.globals, saved.defaults, where, false);
        }
    }

    bool process_file(const std::string& path, const SourceLocation& from)
    {
        if (depth_ >= kMaxIncludeDepth)
            return fatal(from, "config files nested too deeply (more than "
                                   + std::to_string(kMaxIncludeDepth) + " levels) at "
                                   + quoted(path));
        ReadResult r = files_.read(path);
        if (const auto* e = std::get_if<FileError>(&r))
            return fatal(from, "unable to open config file " + quoted(path) + ": "
                                   + errno_text(e->errno_value));
        const auto& data = std::get<FileData>(r);
        if (data.is_directory)
            return fatal(from, "config file " + quoted(path) + " is a directory");
        total_bytes_ += data.contents.size();
        if (total_bytes_ > kMaxTotalBytes)
            return fatal(from, "config files too large in total (more than "
                                   + std::to_string(kMaxTotalBytes >> 20) + " MiB)");

        std::string saved_file = std::move(file_);
        file_ = path;
        ++depth_;
        parse_config_text(data.contents, *this);
        --depth_;
        file_ = std::move(saved_file);
        return !fatal_;
    }

    // &include (manage_globals) and &merge. (Upstream: params.c:include_config.)
    bool include(const std::string& target, bool manage_globals, const SourceLocation& where)
    {
        const std::string_view directive = manage_globals ? "&include" : "&merge";
        if (target.empty())
            return fatal(where, std::string(directive) + " needs a file or directory name");
        if (++includes_ > kMaxIncludes)
            return fatal(where, "too many included config files (more than "
                                    + std::to_string(kMaxIncludes) + ")");

        if (!files_.is_dir(target)) {
            if (manage_globals)
                push();
            bool ok = process_file(target, where);
            if (manage_globals && ok)
                pop();
            return ok;
        }

        ListResult listing = files_.list_dir(target);
        if (const auto* e = std::get_if<FileError>(&listing))
            return fatal(where, "unable to open config directory " + quoted(target) + ": "
                                    + errno_text(e->errno_value));
        const std::string_view suffix = manage_globals ? ".conf" : ".inc";
        std::vector<std::string> paths;
        for (const auto& name : std::get<std::vector<std::string>>(listing)) {
            if (name.size() >= suffix.size()
                && std::string_view(name).substr(name.size() - suffix.size()) == suffix) {
                std::string joined = target;
                if (joined.back() != '/')
                    joined.push_back('/');
                joined += name;
                paths.push_back(std::move(joined));
            }
        }
        // Nothing matched: upstream returns before touching the saved state, so the
        // section context stays as it was.
        if (paths.empty())
            return true;
        std::sort(paths.begin(), paths.end());
        for (std::size_t j = 0; j < paths.size(); ++j) {
            if (manage_globals) {
                if (j == 0)
                    push();
                else
                    reset();
            }
            if (j > 0 && ++includes_ > kMaxIncludes)
                return fatal(where, "too many included config files (more than "
                                        + std::to_string(kMaxIncludes) + ")");
            if (!process_file(paths[j], where))
                return false;
        }
        if (manage_globals)
            pop();
        return true;
    }

    void push()
    {
        stack_.push_back(cur_);
        in_global_ = true;
    }

    void reset()
    {
        cur_ = stack_.back();
        in_global_ = true;
    }

    void pop()
    {
        cur_ = std::move(stack_.back());
        stack_.pop_back();
        in_global_ = true;
    }

    void add_cli_modules()
    {
        for (std::size_t i = 0; i < opts_.cli_modules.size(); ++i) {
            const CliModule& cli = opts_.cli_modules[i];
            const SourceLocation where{kModuleOptionFile, static_cast<int>(i + 1)};
            // Same normal form as a [header]: trimmed, white space runs collapsed.
            std::string name;
            for (const auto& word : split_ws(cli.name)) {
                if (!name.empty())
                    name.push_back(' ');
                name += word;
            }
            if (name.empty() || name.find_first_of("/]") != std::string::npos
                || names_equal(name, "global")) {
                problem(where, "invalid module name " + quoted(cli.name)
                                   + " (it must be non-empty, not \"global\", and without '/' "
                                     "or ']')");
                continue;
            }
            auto it = by_key_.find(section_key(name));
            if (it != by_key_.end() && !it->second.empty()) {
                const auto& other = modules_[it->second.back()].settings;
                problem(where, "module " + quoted(name) + " is already defined at "
                                   + other.defined_at.file + ":"
                                   + std::to_string(other.defined_at.line));
                continue;
            }
            if (cli.path.empty()) {
                problem(where, "module " + quoted(name) + " has an empty path");
                continue;
            }
            if (modules_.size() >= kMaxModules) {
                problem(where, "too many modules (more than " + std::to_string(kMaxModules) + ")");
                continue;
            }
            SectionState m = cur_.defaults;
            set_module_name(m, name);
            m.settings.defined_at = where;
            const ParamInfo* path_param = find_param("path");
            const ParamInfo* ro_param = find_param("read only");
            set_param(*path_param, cli.path, cur_.globals, m, where, true);
            set_param(*ro_param, cli.writable ? "no" : "yes", cur_.globals, m, where, true);
            by_key_[section_key(name)].push_back(modules_.size());
            modules_.push_back(std::move(m));
        }
    }

    void resolve_null_strings()
    {
        for (auto& m : modules_) {
            for (const auto& p : all_params()) {
                if (p.global || !p.is_string() || !m.null_strings[param_index(p)])
                    continue;
                copy_param(p, m.settings, cur_.defaults.settings);
                if (const SourceLocation* at = cur_.defaults.settings.where_set(p.label))
                    m.settings.set_at.insert_or_assign(std::string(p.label), *at);
                else
                    m.settings.set_at.erase(std::string(p.label));
            }
            m.null_strings.assign(m.null_strings.size(), false);
        }
    }

    // The front-end and workers cannot read these files once privileges are dropped, so
    // read them now; problems with them are reported by validate_config().
    void read_ahead(const std::vector<ModuleSettings>& modules)
    {
        std::string motd = resolve_motd_path(cur_.globals.motd_file, opts_.environment);
        if (!motd.empty())
            (void)files_.read(motd);
        for (const auto& m : modules) {
            // Without "auth users" upstream never opens the secrets file; neither do we, so
            // that no password leaves the privileged side needlessly.
            if (m.auth_users.empty())
                continue;
            auto path = resolve_secrets_path(m.secrets_file, m.name, opts_.environment);
            if (path && !path->empty())
                (void)files_.read(*path);
        }
    }

    const LoadOptions& opts_;
    RecordingFileSource files_;
    std::vector<Problem> problems_;
    bool fatal_ = false;

    DefaultsState cur_;
    std::vector<DefaultsState> stack_;
    std::vector<SectionState> modules_;
    std::unordered_map<std::string, std::vector<std::size_t>> by_key_;
    bool in_global_ = true;
    std::size_t current_ = 0;
    bool dparams_applied_ = false;

    std::string file_;
    int depth_ = 0;
    std::size_t includes_ = 0;
    std::size_t total_bytes_ = 0;
};

} // namespace

LoadResult load_config(const LoadOptions& options, FileSource& files)
{
    return Loader(options, files).run();
}

} // namespace ocr::daemon
