# The webapps example as a processes.nix in nix-processmgmt's style: two instances of the `webapp`
# constructor and an nginx reverse proxy that depends on both. It evaluates to the same system as
# processes.yaml next to it:
#
#   nixpmctl check -c examples/webapps/processes.nix
#   nixpmd -c examples/webapps/processes.nix
#
# nixpm calls this function with the directory settings (--argstr stateDir ..., --arg
# forceDisableUserChange ...); the defaults below apply when it is evaluated by hand.
{ stateDir ? "/var"
, runtimeDir ? "${stateDir}/run"
, logDir ? "${stateDir}/log"
, cacheDir ? "${stateDir}/cache"
, tmpDir ? (if stateDir == "/var" then "/tmp" else "${stateDir}/tmp")
, forceDisableUserChange ? false
, ...
}:

let
  nixpm = import ../../nix {
    inherit stateDir runtimeDir logDir cacheDir tmpDir forceDisableUserChange;
  };

  constructors = import ./constructors.nix {
    inherit (nixpm) createManagedProcess lib;
    inherit stateDir runtimeDir logDir cacheDir tmpDir forceDisableUserChange;
  };
in
nixpm.processes rec {
  webapp1 = rec {
    port = 5001;
    dnsName = "webapp1.local";
    pkg = constructors.webapp {
      inherit port;
      instanceSuffix = "1";
    };
  };

  webapp2 = rec {
    port = 5002;
    dnsName = "webapp2.local";
    pkg = constructors.webapp {
      inherit port;
      instanceSuffix = "2";
    };
  };

  nginx = rec {
    port = 8080;
    pkg = constructors.nginxReverseProxy {
      webapps = [ webapp1 webapp2 ];
      inherit port;
    };
  };
}
