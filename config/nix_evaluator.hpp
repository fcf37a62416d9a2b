#pragma once
// Evaluating a processes.nix to JSON with `nix-instantiate --eval --strict --json --store dummy://`
// (works unprivileged, needs no daemon and no nixpkgs). The directory settings are passed as
// `--argstr` arguments. The evaluation's result is a JSON object mapping each instance name to an
// object in the shape of nix-processmgmt's agnostic configs (what createManagedProcess writes with
// processManager = null); the loader turns it into the model like a directory of <name>.json files.

#include <filesystem>
#include <optional>
#include <string>

#include "config/loader.hpp"

namespace nixpm::config {

struct NixEvaluation {
  std::optional<std::string> json;  // the evaluated document, when evaluation succeeded
  std::string error;                // otherwise: Nix's own message, intact (it names file:line)
};

// True when nix-instantiate can be found on PATH.
bool nix_available();

NixEvaluation evaluate_nix_file(const std::filesystem::path& file, const DirectoryVariables& dirs,
                                bool force_disable_user_change);

}  // namespace nixpm::config
