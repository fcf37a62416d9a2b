# bash completion for nixpmctl: verbs, options, and instance names from the running daemon.

_nixpmctl_instances() {
  # Ask the daemon the user talks to; print nothing if it does not answer.
  nixpmctl "$@" list 2>/dev/null | awk 'NR > 1 { print $1 }'
}

_nixpmctl() {
  local cur prev verbs globals verb i
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD-1]}
  verbs="status list start stop restart reload logs signal graph watch check generate deploy undeploy shutdown"
  globals="--help --version --json --user --system --socket --config --timeout --state-dir --runtime-dir --log-dir --tmp-dir --cache-dir --force-disable-user-change"

  case $prev in
    --socket|-c|--config|--state-dir|--runtime-dir|--log-dir|--tmp-dir|--cache-dir)
      COMPREPLY=($(compgen -f -- "$cur")); return ;;
    -o|--output|--root)
      COMPREPLY=($(compgen -d -- "$cur")); return ;;
    -m|--manager)
      COMPREPLY=($(compgen -W "$(nixpmctl generate --list 2>/dev/null | awk '{ print $1 }')" -- "$cur")); return ;;
    --timeout|-n) return ;;
  esac

  verb=""
  local scope=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
      --user|--system) scope+=("${COMP_WORDS[i]}") ;;
      --socket) scope+=(--socket "${COMP_WORDS[i+1]}") ;;
      -*) ;;
      *) if [ -z "$verb" ]; then verb=${COMP_WORDS[i]}; fi ;;
    esac
  done

  if [ -z "$verb" ]; then
    if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$globals" -- "$cur"))
    else COMPREPLY=($(compgen -W "$verbs" -- "$cur")); fi
    return
  fi
  case $verb in
    start|stop|restart) COMPREPLY=($(compgen -W "--no-wait $(_nixpmctl_instances "${scope[@]}")" -- "$cur")) ;;
    status) COMPREPLY=($(compgen -W "--json $(_nixpmctl_instances "${scope[@]}")" -- "$cur")) ;;
    logs) COMPREPLY=($(compgen -W "-f --follow -n $(_nixpmctl_instances "${scope[@]}")" -- "$cur")) ;;
    signal) COMPREPLY=($(compgen -W "HUP INT QUIT KILL TERM USR1 USR2 $(_nixpmctl_instances "${scope[@]}")" -- "$cur")) ;;
    graph) COMPREPLY=($(compgen -W "--dot" -- "$cur")) ;;
    check) COMPREPLY=($(compgen -W "--json -c --config" -- "$cur")) ;;
    generate) COMPREPLY=($(compgen -W "--manager -o --output --strict --list --capabilities --user --system -c --config --json" -- "$cur")) ;;
    deploy) COMPREPLY=($(compgen -W "--manager --root --strict --user --system -c --config --json" -- "$cur")) ;;
    undeploy) COMPREPLY=($(compgen -W "--manager --user --system --json" -- "$cur")) ;;
  esac
}
complete -F _nixpmctl nixpmctl
