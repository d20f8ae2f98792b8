// SPDX-License-Identifier: MIT
// The Config model's accessors and problem formatting (loading lives in config_load.cpp).
#include "daemon/config.hpp"

#include "daemon/config_paths.hpp"

namespace ocr::daemon {

const SourceLocation* GlobalSettings::where_set(std::string_view param) const
{
    auto it = set_at.find(param);
    return it == set_at.end() ? nullptr : &it->second;
}

const SourceLocation* ModuleSettings::where_set(std::string_view param) const
{
    auto it = set_at.find(param);
    return it == set_at.end() ? nullptr : &it->second;
}

std::string format_problem(const Problem& problem)
{
    std::string out = problem.where.file;
    if (problem.where.line > 0)
        out += ":" + std::to_string(problem.where.line);
    out += ": ";
    if (problem.severity == Severity::Warning)
        out += "warning: ";
    out += problem.message;
    return out;
}

Config::Config(GlobalSettings globals, ModuleSettings defaults, std::vector<ModuleSettings> modules,
               std::map<std::string, std::string, std::less<>> environment, FileBundle bundle) :
    globals_(std::move(globals)),
    defaults_(std::move(defaults)),
    modules_(std::move(modules)),
    environment_(std::move(environment)),
    bundle_(std::move(bundle))
{
}

const ModuleSettings* Config::find_module(std::string_view name) const
{
    // Last match wins, as upstream searches from the end.
    for (auto it = modules_.rbegin(); it != modules_.rend(); ++it)
        if (it->name == name)
            return &*it;
    return nullptr;
}

const FileData* Config::file(const std::string& path) const
{
    const ReadResult* r = bundle_.find_read(path);
    return r ? std::get_if<FileData>(r) : nullptr;
}

std::optional<FileError> Config::file_error(const std::string& path) const
{
    const ReadResult* r = bundle_.find_read(path);
    if (r == nullptr)
        return std::nullopt;
    if (const auto* e = std::get_if<FileError>(r))
        return *e;
    return std::nullopt;
}

std::string Config::motd_path() const
{
    return resolve_motd_path(globals_.motd_file, environment_);
}

std::optional<std::string> Config::secrets_path(const ModuleSettings& module) const
{
    return resolve_secrets_path(module.secrets_file, module.name, environment_);
}

} // namespace ocr::daemon
