#include "definitions_source.hpp"

#include "config/id_assignments.hpp"

namespace nixpm::daemon {

config::LoadResult DefinitionsSource::load() const {
  config::Diagnostics problems;
  const auto ids_file = config::id_assignments_path(paths_.state_dir);
  const auto previous = config::load_id_assignments(ids_file, problems);
  if (!previous) {
    config::LoadResult refused;
    refused.diagnostics = std::move(problems);
    return refused;
  }
  config::LoadOptions options;
  options.previous_ids = &*previous;
  options.force_disable_user_change = paths_.force_disable_user_change;
  return config::load_definitions_file(paths_.config_file, config::DirectoryVariables::from(paths_), options);
}

std::string DefinitionsSource::accept(const config::LoadResult& accepted) const {
  if (accepted.ids.empty()) {
    // Nothing asks for ids: keep a file that may still hold assignments only when there is one to keep.
    std::error_code ignored;
    if (!std::filesystem::exists(config::id_assignments_path(paths_.state_dir), ignored)) return {};
  }
  if (auto error = config::save_id_assignments(config::id_assignments_path(paths_.state_dir), accepted.ids))
    return *error;
  return {};
}

}  // namespace nixpm::daemon
