# Builds nixpm with nixpkgs (see docs/packaging.md):
#
#   nix-build                                   # the nixpkgs on NIX_PATH
#   nix-build --arg pkgs 'import /path/to/nixpkgs { }'
#   nix-env -f . -i                             # install it into your profile
#
# The derivation itself is packaging/nix/nixpm.nix, shared with flake.nix.
{ pkgs ? import <nixpkgs> { } }:

pkgs.callPackage ./packaging/nix/nixpm.nix { }
