# Constructors (function definitions) for the webapps example, in nix-processmgmt's style: each one
# takes the instance's parameters and returns a process made by createManagedProcess. processes.nix
# invokes them. The result is the same system as processes.yaml (see docs/migrating-from-nix-processmgmt.md).
{ createManagedProcess, lib, stateDir, runtimeDir, logDir, tmpDir, ... }:

{
  # A tiny HTTP server that answers with a page naming its instance and port.
  webapp = { port, instanceSuffix ? "", instanceName ? "webapp${instanceSuffix}" }:
    createManagedProcess {
      name = instanceName;
      inherit instanceName;
      description = "Web application ${instanceName} on port ${toString port}";
      process = "/usr/bin/python3";
      args = [ "-m" "http.server" (toString port) "--bind" "127.0.0.1" "--directory" "${stateDir}/lib/${instanceName}" ];
      environment = {
        PYTHONUNBUFFERED = 1;
      };
      overrides.nixpm.files."${stateDir}/lib/${instanceName}/index.html" = ''
        <!DOCTYPE html>
        <html><head><title>${instanceName}</title></head>
        <body><p>Hello from ${instanceName} on port ${toString port}.</p></body></html>
      '';
    };

  # nginx as a reverse proxy with one virtual host per webapp: each entry of `webapps` is an entry of
  # processes.nix with `port`, `dnsName` and `pkg`, and becomes a dependency.
  nginxReverseProxy = { port ? 8080, webapps ? [ ], instanceSuffix ? "", instanceName ? "nginx${instanceSuffix}" }:
    let
      dnsNames = map (webapp: webapp.dnsName) webapps;
      virtualHost = webapp:
        "  server {\n"
        + "    listen 127.0.0.1:${toString port};\n"
        + "    server_name ${webapp.dnsName};\n"
        + "    location / { proxy_pass http://127.0.0.1:${toString webapp.port}; }\n"
        + "  }\n";
    in
    createManagedProcess {
      name = instanceName;
      inherit instanceName;
      description = "Reverse proxy: ${builtins.concatStringsSep " and " dnsNames} on port ${toString port}";
      foregroundProcess = "/usr/sbin/nginx";
      foregroundProcessArgs = [ "-p" "${stateDir}/lib/${instanceName}" "-c" "${stateDir}/etc/${instanceName}.conf"
                                "-e" "stderr" "-g" "daemon off;" ];
      dependencies = webapps;
      overrides.nixpm = {
        stopSignal = "QUIT"; # nginx's graceful shutdown
        files."${stateDir}/etc/${instanceName}.conf" = ''
          worker_processes 1;
          pid ${runtimeDir}/${instanceName}.pid;
          error_log stderr;
          events { worker_connections 128; }
          http {
            access_log ${logDir}/${instanceName}-access.log;
            client_body_temp_path ${tmpDir}/${instanceName}-client_body;
            proxy_temp_path ${tmpDir}/${instanceName}-proxy;
            fastcgi_temp_path ${tmpDir}/${instanceName}-fastcgi;
            uwsgi_temp_path ${tmpDir}/${instanceName}-uwsgi;
            scgi_temp_path ${tmpDir}/${instanceName}-scgi;
            proxy_set_header Host $host;

            server {
              listen 127.0.0.1:${toString port} default_server;
              return 404 "unknown virtual host: use ${builtins.concatStringsSep " or " dnsNames}\n";
            }
        '' + lib.concatMapStrings virtualHost webapps + "}\n";
      };
    };
}
