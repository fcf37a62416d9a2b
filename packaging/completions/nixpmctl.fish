# fish completion for nixpmctl: verbs, options, and instance names from the running daemon.

function __nixpmctl_instances
    nixpmctl list 2>/dev/null | awk 'NR > 1 { print $1 }'
end

set -l verbs status list start stop restart reload logs signal graph watch check generate deploy undeploy shutdown
complete -c nixpmctl -f
complete -c nixpmctl -n "not __fish_seen_subcommand_from $verbs" -a status -d 'Show the state of instances'
complete -c nixpmctl -n "not __fish_seen_subcommand_from $verbs" -a list -d 'List the defined instances'
complete -c nixpmctl -n "not __fish_seen_subcommand_from $verbs" -a start -d 'Start instances after their dependencies'
complete -c nixpmctl -n "not __fish_seen_subcommand_from $verbs" -a stop -d 'Stop instances after their dependents'
complete -c nixpmctl -n "not __fish_seen_subcommand_from $verbs" -a restart -d 'Stop, then start instances'
complete -c nixpmctl -n "not __fish_seen_subcommand_from $verbs" -a reload -d 'Switch to the current definitions'
complete -c nixpmctl -n "not __fish_seen_subcommand_from $verbs" -a logs -d 'Print (and follow) an instance log'
complete -c nixpmctl -n "not __fish_seen_subcommand_from $verbs" -a signal -d 'Send a signal to instances'
complete -c nixpmctl -n "not __fish_seen_subcommand_from $verbs" -a graph -d 'Show the dependency graph'
complete -c nixpmctl -n "not __fish_seen_subcommand_from $verbs" -a watch -d 'Print state changes as they happen'
complete -c nixpmctl -n "not __fish_seen_subcommand_from $verbs" -a check -d 'Validate definitions without a daemon'
complete -c nixpmctl -n "not __fish_seen_subcommand_from $verbs" -a generate -d 'Write configuration for another process manager'
complete -c nixpmctl -n "not __fish_seen_subcommand_from $verbs" -a deploy -d 'Install into a native process manager and start there'
complete -c nixpmctl -n "not __fish_seen_subcommand_from $verbs" -a undeploy -d 'Stop and remove what deploy installed'
complete -c nixpmctl -n "not __fish_seen_subcommand_from $verbs" -a shutdown -d 'Stop everything and end nixpmd'
complete -c nixpmctl -n "__fish_seen_subcommand_from start stop restart status logs signal" -a '(__nixpmctl_instances)'
complete -c nixpmctl -l json -d 'Print JSON'
complete -c nixpmctl -l user -d 'Talk to the user-mode daemon'
complete -c nixpmctl -l system -d 'Talk to the system-mode daemon'
complete -c nixpmctl -l socket -r -F -d 'Control socket'
complete -c nixpmctl -s c -l config -r -F -d 'Definitions file'
complete -c nixpmctl -l timeout -x -d 'Seconds to wait'
complete -c nixpmctl -n "__fish_seen_subcommand_from start stop restart" -l no-wait -d 'Do not wait for the outcome'
complete -c nixpmctl -n "__fish_seen_subcommand_from logs" -s f -l follow -d 'Keep printing new lines'
complete -c nixpmctl -n "__fish_seen_subcommand_from logs" -s n -x -d 'Number of lines'
complete -c nixpmctl -n "__fish_seen_subcommand_from graph" -l dot -d 'Graphviz DOT output'
complete -c nixpmctl -n "__fish_seen_subcommand_from generate" -s m -l manager -x -a '(nixpmctl generate --list 2>/dev/null | string replace -r " .*" "")' -d 'Process manager'
complete -c nixpmctl -n "__fish_seen_subcommand_from generate" -s o -l output -r -a '(__fish_complete_directories)' -d 'Output directory'
complete -c nixpmctl -n "__fish_seen_subcommand_from generate" -l strict -d 'Fail when anything is lost'
complete -c nixpmctl -n "__fish_seen_subcommand_from generate" -l list -d 'List the managers'
complete -c nixpmctl -n "__fish_seen_subcommand_from generate" -l capabilities -d 'Print the capability table'
complete -c nixpmctl -n "__fish_seen_subcommand_from deploy undeploy" -s m -l manager -x -a '(nixpmctl generate --list 2>/dev/null | string replace -r " .*" "")' -d 'Process manager'
complete -c nixpmctl -n "__fish_seen_subcommand_from deploy" -l root -r -a '(__fish_complete_directories)' -d "Install here instead of the manager's place"
complete -c nixpmctl -n "__fish_seen_subcommand_from deploy" -l strict -d 'Fail when anything is lost'
