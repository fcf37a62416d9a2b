# nixpm's Nix library: write processes.nix and constructors in nix-processmgmt's style without nixpkgs
# and without a Nix store. nixpm evaluates processes.nix with
#   nix-instantiate --eval --strict --json --store dummy://
# and loads the result like a directory of nix-processmgmt agnostic configs. See docs/nix.md.
#
#   nixpm = import ../../nix { inherit stateDir runtimeDir logDir tmpDir cacheDir forceDisableUserChange; };
#
# (or `import <nixpm> { ... }`: nixpm puts its installed copy of this directory on the search path).
{ stateDir ? "/var"
, runtimeDir ? "${stateDir}/run"
, logDir ? "${stateDir}/log"
, cacheDir ? "${stateDir}/cache"
, tmpDir ? (if stateDir == "/var" then "/tmp" else "${stateDir}/tmp")
, forceDisableUserChange ? false
, ...
}:

let
  lib = import ./lib.nix;
in
{
  inherit lib;
  inherit stateDir runtimeDir logDir cacheDir tmpDir forceDisableUserChange;

  # createManagedProcess { name/instanceName, process, args, ..., dependencies, overrides.nixpm }
  createManagedProcess = import ./create-managed-process.nix { inherit lib; };

  # processes { key = { pkg = ...; }; ... } -> { <name> = <agnostic config>; ... }
  processes = import ./processes.nix { inherit lib; };
}
