# Runs at install time (included by install(CODE) in packaging/CMakeLists.txt) and installs one
# template with the absolute paths of *this* installation filled in: @NIXPM_BINDIR@ and
# @NIXPM_LOGINDIR@. configure_file() at configure time would bake in the configure-time prefix,
# which `cmake --install --prefix P` and CPack's /usr do not change.
#
# Input variables: NIXPM_TEMPLATE (a *.in file), NIXPM_DESTINATION (relative to the prefix),
# NIXPM_BINDIR_RELATIVE, NIXPM_LOGINDIR_RELATIVE (GNUInstallDirs values), NIXPM_STAGING_ROOT.
# CMAKE_INSTALL_PREFIX is the installation's prefix; file(INSTALL) adds DESTDIR itself.

function(nixpm_absolute_install_dir relative out)
  if(IS_ABSOLUTE "${relative}")
    set(${out} "${relative}" PARENT_SCOPE)
  else()
    set(${out} "${CMAKE_INSTALL_PREFIX}/${relative}" PARENT_SCOPE)
  endif()
endfunction()

nixpm_absolute_install_dir("${NIXPM_BINDIR_RELATIVE}" NIXPM_BINDIR)
nixpm_absolute_install_dir("${NIXPM_LOGINDIR_RELATIVE}" NIXPM_LOGINDIR)
nixpm_absolute_install_dir("${NIXPM_DESTINATION}" destination)

# A staging directory of its own: several installations (the tests, cpack) may run at once from one
# build directory, each with its own prefix.
string(RANDOM LENGTH 16 token)
set(staging "${NIXPM_STAGING_ROOT}/${token}")
get_filename_component(name "${NIXPM_TEMPLATE}" NAME)
string(REGEX REPLACE "\\.in$" "" name "${name}")
configure_file("${NIXPM_TEMPLATE}" "${staging}/${name}" @ONLY)
file(INSTALL "${staging}/${name}" DESTINATION "${destination}")
file(REMOVE_RECURSE "${staging}")
