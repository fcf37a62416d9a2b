#pragma once
// Unique IDs drawn from declared pools (nix-processmgmt's nixproc-id-assign idea): ports, uids,
// gids... Each instance that asks for an id from a pool gets one, and keeps it across reloads and
// restarts because the assignments are persisted in the state dir. The loader computes the new
// table; saving it is left to the caller so that it happens only once the definitions are accepted
// (the daemon saves, `nixpmctl check` never does).

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/source_position.hpp"

namespace nixpm::config {

// pool -> instance -> id. std::map keeps ids.json stable and diffable.
using IdTable = std::map<std::string, std::map<std::string, long long>>;

struct IdPool {
  std::string name;
  long long min = 0;
  long long max = 0;
  SourcePosition position;  // where the pool is declared
};

// One instance asking for an id from `pool` (an item of its requiresUniqueIdsFor).
struct IdRequest {
  std::string instance;
  std::string pool;
  SourcePosition position;
};

// Keeps every previous assignment that is still requested and inside its pool's range; gives each
// new request the lowest free id; drops assignments nobody requests any more. A request for an
// unknown pool or a full pool is reported; the returned table then lacks those entries.
IdTable assign_ids(const std::vector<IdPool>& pools, const std::vector<IdRequest>& requests,
                   const IdTable* previous, Diagnostics& diagnostics);

// `<stateDir>/lib/nixpm/ids.json`.
std::filesystem::path id_assignments_path(const std::filesystem::path& state_dir);

// Reads ids.json. A missing file is an empty table (first run); an unreadable or malformed file is
// a diagnostic, because silently starting over would move every port.
std::optional<IdTable> load_id_assignments(const std::filesystem::path& file, Diagnostics& diagnostics);

// Writes ids.json atomically (temporary file in the same directory, fsync, rename), creating the
// directory if needed. Returns an error message, or nullopt on success.
std::optional<std::string> save_id_assignments(const std::filesystem::path& file, const IdTable& table);

}  // namespace nixpm::config
