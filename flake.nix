# The same build as default.nix, for Nix with flakes enabled:
#
#   nix build                 # ./result/bin/nixpmd
#   nix run . -- --version    # runs nixpmd
#   nix develop               # a shell with the build dependencies
{
  description = "nixpm: a service manager for Nix-style process deployments";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forEachSystem = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forEachSystem (pkgs: {
        nixpm = pkgs.callPackage ./packaging/nix/nixpm.nix { };
        default = self.packages.${pkgs.stdenv.hostPlatform.system}.nixpm;
      });

      # `nix flake check` builds the package, which runs the unit tests.
      checks = forEachSystem (pkgs: {
        nixpm = self.packages.${pkgs.stdenv.hostPlatform.system}.nixpm;
      });

      devShells = forEachSystem (pkgs: {
        default = pkgs.mkShell {
          inputsFrom = [ self.packages.${pkgs.stdenv.hostPlatform.system}.nixpm ];
          # The integration tests' tools: Python and nix-instantiate for processes.nix definitions.
          packages = [ pkgs.python3 pkgs.nix ];
        };
      });

      overlays.default = final: _prev: {
        nixpm = final.callPackage ./packaging/nix/nixpm.nix { };
      };
    };
}
