# nixpm login start: runs `nixpmd --user` in the background, once per user, at login.
#
# Source it from a login shell's profile (sh, dash, bash, ksh, zsh), e.g. at the end of ~/.profile:
#
#   . /usr/share/nixpm/login/nixpm-login.sh
#
# or run it as a program (`sh nixpm-login.sh`, what the XDG autostart entry does). It
#   - does nothing unless $XDG_CONFIG_HOME/nixpm/processes.yaml exists (opting in is creating it);
#   - does nothing when a daemon already answers `nixpmctl --user list` (one connect: cheap enough for
#     every login);
#   - otherwise starts nixpmd in its own session (setsid), so that the hangup at logout does not reach
#     it and services keep running after the last logout (see docs/packaging.md to change that);
#   - serialises concurrent logins with flock(1) on a lock file that the daemon keeps open for its whole
#     life, so two logins at once start one daemon. nixpmd's own check (it refuses to start while
#     another daemon answers on its socket) covers daemons started some other way.
# nixpmd's own messages are appended to $XDG_STATE_HOME/nixpm/nixpmd.log.
#
# Everything lives in one function, removed again afterwards, so that sourcing leaves the login
# shell's variables and functions as they were.

nixpm_login_start() {
  [ -e "${XDG_CONFIG_HOME:-$HOME/.config}/nixpm/processes.yaml" ] || return 0
  command -v nixpmd >/dev/null 2>&1 || return 0
  nixpmctl --user list >/dev/null 2>&1 && return 0

  nixpm_login_state=${XDG_STATE_HOME:-$HOME/.local/state}/nixpm
  mkdir -p "$nixpm_login_state" || return 0
  if command -v flock >/dev/null 2>&1; then nixpm_login_guard="flock -n 9"; else nixpm_login_guard=true; fi
  # The outer subshell ends at once: an interactive shell sees no background job (no "[1] 1234", and
  # nothing for it to hang up); the inner one is not a process group leader, so setsid(1) does not
  # need to fork again. nixpmd inherits the locked descriptor 9 and closes it for its instances.
  (
    (
      $nixpm_login_guard || exit 0
      exec setsid nixpmd --user </dev/null >>"$nixpm_login_state/nixpmd.log" 2>&1
    ) 9>>"$nixpm_login_state/login.lock" &
  )
  unset nixpm_login_state nixpm_login_guard
}

nixpm_login_start
unset -f nixpm_login_start
