# createManagedProcess without a Nix store: it takes the properties of nix-processmgmt's
# createManagedProcess and returns them as an attribute set in the shape of an agnostic config (what
# nix-processmgmt writes to <name>.json when processManager = null), which nixpm loads like a
# directory of such files.
#
# Differences from the original, all forced by having no store:
# - the result is the configuration itself, not a derivation that contains it;
# - each dependency becomes the dependency's process name (a plain string), instead of a store path;
# - postInstall (build commands) is refused;
# - nixpm's own settings (generated files, restart policy, stop signal, readiness, ...) go in
#   overrides.nixpm, the same place nix-processmgmt keeps settings for one process manager (so the
#   same constructor still works with nix-processmgmt, which ignores them). Like any override they
#   are applied on top of the properties: the result carries them as top-level keys, and
#   overrides.nixpm itself is removed.
{ lib }:

{ name ? null
, instanceName ? null
, description ? null
, initialize ? null
, process ? null
, args ? null
, daemon ? null
, daemonExtraArgs ? null
, daemonArgs ? null
, pidFile ? null
, foregroundProcess ? null
, foregroundProcessExtraArgs ? null
, foregroundProcessArgs ? null
, path ? null
, environment ? null
, directory ? null
, umask ? null
, nice ? null
, user ? null
, dependencies ? [ ]
, credentials ? null
, overrides ? null
, postInstall ? ""
}@properties:

let
  processName =
    if name != null then name
    else if instanceName != null then instanceName
    else throw "createManagedProcess: set 'name' or 'instanceName'";

  fail = message: throw "createManagedProcess (${processName}): ${message}";

  # A dependency may be given as what createManagedProcess returned, as an entry of processes.nix
  # (an attribute set with `pkg`, as nix-processmgmt's constructors pass them), or as a name.
  dependencyName = dependency:
    if builtins.isString dependency then dependency
    else if builtins.isAttrs dependency && dependency ? pkg then dependencyName dependency.pkg
    else if builtins.isAttrs dependency && dependency ? name && builtins.isString dependency.name then dependency.name
    else fail "a dependency must be a process made by createManagedProcess, an entry with 'pkg', or a name";

  checked =
    if !(builtins.isString processName) then throw "createManagedProcess: 'name' must be a string"
    else if process == null && foregroundProcess == null && daemon == null
    then fail "set 'process', 'foregroundProcess' or 'daemon'"
    else if postInstall != "" then fail "'postInstall' needs a Nix store, which nixpm does not use; generate files with overrides.nixpm.files"
    else if !(builtins.isList dependencies) then fail "'dependencies' must be a list"
    else if overrides != null && !(builtins.isAttrs overrides) then fail "'overrides' must be an attribute set"
    else true;

  nixpmOverrides = if overrides != null && overrides ? nixpm then overrides.nixpm else { };

  otherOverrides = builtins.removeAttrs overrides [ "nixpm" ];
in
builtins.seq checked (
  builtins.removeAttrs properties [ "postInstall" "overrides" ]
  // { name = processName; }
  // lib.optionalAttrs (properties ? dependencies) { dependencies = map dependencyName dependencies; }
  // lib.optionalAttrs (overrides != null && otherOverrides != { }) { overrides = otherOverrides; }
  // (if builtins.isAttrs nixpmOverrides then nixpmOverrides else fail "'overrides.nixpm' must be an attribute set")
)
