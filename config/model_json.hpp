#pragma once
// The resolved model as JSON, for `nixpmctl check --json`: every field of InstanceSpec, spelled like
// the definition keys (camelCase) where there is one. Optional values that are unset are null;
// positions are "file:line:column". The shape is the same whichever form (YAML, agnostic JSON,
// processes.nix) the definitions came from, so two forms of one system compare by comparing this.

#include <nlohmann/json.hpp>

#include "config/model.hpp"

namespace nixpm::config {

// "always", "on-failure", "never".
std::string restart_policy_name(RestartPolicy policy);
// "started", "pidFile", "tcp", "command", "notify" (the spelling of `readiness`).
std::string readiness_kind_name(ReadinessKind kind);
// "0027"-style octal text, as `umask` is written.
std::string umask_text(int umask);

nlohmann::json credentials_json(const Credentials& credentials);
nlohmann::json supervision_json(const SupervisionPolicy& policy);
nlohmann::json instance_json(const InstanceSpec& instance);
// {"source": ..., "instances": [...]} in declaration order.
nlohmann::json definitions_json(const Definitions& definitions);

}  // namespace nixpm::config
