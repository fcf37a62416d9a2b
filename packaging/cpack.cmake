# The Debian package (`cpack -G DEB` in the build directory, or the `package` target), included at the
# end of the top-level CMakeLists.txt. Runtime dependencies are not listed by hand: dpkg-shlibdeps
# (dpkg-dev) derives them from the shared libraries the installed binaries link, so they follow the
# libraries of the machine that builds the package.
set(NIXPM_PACKAGE_MAINTAINER "nixpm developers <nixpm@example.org>"
    CACHE STRING "Maintainer field of the Debian package")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME nixpm)
set(CPACK_PACKAGE_VENDOR nixpm)
set(CPACK_PACKAGE_CONTACT "${NIXPM_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "service manager for Nix-style process deployments")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# nix-instantiate is needed only for definitions written as processes.nix.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "nix-bin")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "service manager for Nix-style process deployments
 nixpmd supervises the instances of a definitions file (YAML, nix-processmgmt
 agnostic JSON, or processes.nix): it starts them in dependency order, restarts
 them with backoff, keeps their logs and stops them in reverse order. It runs
 as a user at login, as a system service, or as PID 1 of a container.
 nixpmctl controls it and generates configuration for systemd, supervisord,
 sysvinit, BSD rc, launchd, cygrunsrv and s6-rc.")

include(CPack)
