# How nixpkgs builds nixpm: a plain CMake project. ../../default.nix and ../../flake.nix call this
# file with `callPackage`, so every argument is the nixpkgs package of that name.
{ lib
, stdenv
, cmake
, ninja
, pkg-config
, boost
, yaml-cpp
, spdlog
, nlohmann_json
, cli11
, catch2
, doCheck ? true
}:

let
  repository = ../..;

  # One version number for every build: the one in the top-level CMakeLists.txt.
  version = builtins.head
    (builtins.match ".*project\\(nixpm VERSION ([0-9.]+)[^0-9.].*" (builtins.readFile (repository + "/CMakeLists.txt")));

  # The repository without VCS data and local build directories (build/, build-*/, result links):
  # leaving them in would make every local build a new source, and a large one.
  isLocalBuildOutput = name: type:
    (type == "directory" && (name == "build" || lib.hasPrefix "build-" name))
    || lib.hasPrefix "result" name;
  src = lib.cleanSourceWith {
    src = lib.cleanSource repository;
    filter = path: type: !(isLocalBuildOutput (baseNameOf path) type);
  };
in
stdenv.mkDerivation {
  pname = "nixpm";
  inherit version src doCheck;

  nativeBuildInputs = [ cmake ninja pkg-config ];
  buildInputs = [ boost yaml-cpp spdlog nlohmann_json cli11 ];
  # Catch2 2.x (nixpkgs' `catch2`, not `catch2_3`): the unit tests are written against it.
  checkInputs = [ catch2 ];

  cmakeFlags = [ "-DNIXPM_BUILD_TESTS=${if doCheck then "ON" else "OFF"}" ];

  # Unit tests only. The integration tests run real daemons, nginx, PostgreSQL and PID namespaces,
  # which a build sandbox does not offer; they run in the repository's CI (packaging/dev.sh test).
  checkPhase = ''
    runHook preCheck
    ctest --output-on-failure -R '^unit '
    runHook postCheck
  '';

  meta = {
    description = "Service manager for Nix-style process deployments, at login, in containers and as a system service";
    mainProgram = "nixpmd";
    platforms = lib.platforms.linux;
  };
}
