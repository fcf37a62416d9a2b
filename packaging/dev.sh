#!/usr/bin/env bash
# The project's own commands, for a fresh Debian 12 machine and for day-to-day work.
#
#   bash packaging/dev.sh demo    install what is missing, build, run nixpmd on examples/webapps
#   bash packaging/dev.sh test    install what is missing, build with -Werror, run the whole suite
#   bash packaging/dev.sh deps    only install what is missing
#   bash packaging/dev.sh build   only build (into build/, or $NIXPM_BUILD_DIR)
#
# Installing is idempotent: apt runs only when a package is missing, and `apt-get update` at most once.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${NIXPM_BUILD_DIR:-$repo/build}
jobs=$(nproc 2>/dev/null || echo 2)

# Build tools and libraries, then what the example and the tests run for real.
packages=(
  g++ cmake ninja-build pkg-config
  libboost-dev libboost-system-dev libboost-filesystem-dev
  libyaml-cpp-dev libspdlog-dev nlohmann-json3-dev libcli11-dev catch2
  python3 nginx-light curl procps man-db zsh fish nix-bin
  postgresql supervisor runit s6 shellcheck libxml2-utils systemd
  # cpack's Debian package (dpkg-shlibdeps, file); the container and login tests (ip, unshare, flock, setsid)
  dpkg-dev file iproute2 util-linux
)

missing_packages() {
  local pkg
  for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      printf '%s\n' "$pkg"
    fi
  done
}

deps() {
  local missing
  mapfile -t missing < <(missing_packages)
  if [ ${#missing[@]} -eq 0 ]; then
    echo "dev.sh: all build and test dependencies are installed"
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "dev.sh: missing Debian packages: ${missing[*]}" >&2
    echo "dev.sh: install them as root with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "dev.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# With an argument, sets NIXPM_WERROR; without one, keeps what the build dir has (so the demo after a
# test run does not rebuild everything).
build() {
  local options=()
  [ -n "${1:-}" ] && options+=("-DNIXPM_WERROR=$1")
  cmake -S "$repo" -B "$build_dir" -G Ninja "${options[@]}" >/dev/null
  cmake --build "$build_dir" -j "$jobs"
}

demo() {
  deps
  build OFF
  # --user: the demo daemon runs in user mode even as root, where nixpmctl would default to system mode.
  local ctl="$build_dir/client/nixpmctl --user"
  cat <<MSG

nixpmd is starting the webapps example in user mode (examples/webapps/processes.yaml).
Open, from another terminal on this machine:
  curl -H 'Host: webapp1.local' http://127.0.0.1:8080/
  curl -H 'Host: webapp2.local' http://127.0.0.1:8080/
Try:
  $ctl status
  $ctl stop webapp1        # stops nginx first, then webapp1
  $ctl start nginx         # starts webapp1 again, then nginx
  $ctl restart webapp2
  $ctl status --json
  $ctl shutdown            # or press Ctrl-C here
Logs are in \${XDG_STATE_HOME:-~/.local/state}/nixpm/log/.

MSG
  exec "$build_dir/daemon/nixpmd" --user -c "$repo/examples/webapps/processes.yaml"
}

run_tests() {
  deps
  build ON
  cd "$build_dir"
  ctest --output-on-failure -j "$jobs" --timeout 300
}

case "${1:-}" in
  deps) deps ;;
  build) deps; build "${2:-}" ;;
  demo) demo ;;
  test) run_tests ;;
  *)
    echo "usage: bash packaging/dev.sh {demo|test|deps|build}" >&2
    exit 2
    ;;
esac
