#pragma once
// The daemon's way of loading its definitions, at start-up and on every reload: with the unique-id
// assignments in use (so every instance keeps its ports and uids), and persisting the new
// assignments only once the definitions are accepted.

#include <string>

#include "common/paths.hpp"
#include "config/loader.hpp"

namespace nixpm::daemon {

class DefinitionsSource {
 public:
  explicit DefinitionsSource(Paths paths) : paths_(std::move(paths)) {}

  // Reads the definitions file (and ids.json). Never throws; problems are diagnostics.
  config::LoadResult load() const;
  // Saves the id assignments of accepted definitions. Returns an error text, empty on success.
  std::string accept(const config::LoadResult& accepted) const;

 private:
  Paths paths_;
};

}  // namespace nixpm::daemon
