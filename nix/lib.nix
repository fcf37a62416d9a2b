# A few list and string helpers for processes.nix and constructors, so that nothing here needs nixpkgs.
# They behave like the nixpkgs functions of the same name.
rec {
  concatMapStrings = f: list: builtins.concatStringsSep "" (map f list);

  concatMapStringsSep = separator: f: list: builtins.concatStringsSep separator (map f list);

  optionalString = condition: text: if condition then text else "";

  optional = condition: value: if condition then [ value ] else [ ];

  optionalAttrs = condition: attrs: if condition then attrs else { };

  mapAttrsToList = f: attrs: map (name: f name attrs.${name}) (builtins.attrNames attrs);

  # The names that occur more than once in a list of strings, each once.
  duplicates = list:
    let
      counts = builtins.foldl' (seen: item: seen // { ${item} = (seen.${item} or 0) + 1; }) { } list;
    in
    builtins.filter (item: counts.${item} > 1) (builtins.attrNames counts);
}
