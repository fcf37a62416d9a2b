# Turns a processes.nix in nix-processmgmt's style, { <key> = { pkg = <process>; ...more... }; },
# into what nixpm reads: { <process name> = <agnostic config>; }. An entry may also be a process
# itself (no `pkg`); an entry whose pkg is null is left out, which disables it.
{ lib }:

entries:

let
  processOf = key: entry:
    if !(builtins.isAttrs entry) then throw "processes: '${key}' must be an attribute set"
    else if entry ? pkg then entry.pkg
    else entry;

  processes = builtins.filter (process: process != null) (lib.mapAttrsToList processOf entries);

  named = map
    (process:
      if builtins.isAttrs process && process ? name then { name = process.name; value = process; }
      else throw "processes: every entry must be made by createManagedProcess (it has no 'name')")
    processes;

  duplicates = lib.duplicates (map (entry: entry.name) named);
in
if duplicates != [ ]
then throw "processes: more than one process is named ${builtins.concatStringsSep ", " duplicates}"
else builtins.listToAttrs named
