"""The floor: bench-floor spawns the N processes with no supervisor (see bench/tools/floor.cpp)."""

import signal

from .base import Manager


class Floor(Manager):
    name = "floor"
    spawn_flags = []
    commands = {
        "start": "bench-floor NAMES PROGRAM (posix_spawn of each, nothing else)",
        "status": "/bin/true (no status exists; this is the cost of running any command-line tool)",
        "stop": "SIGTERM to bench-floor: kill and reap all N, then exit",
        "restart": "waitpid, then posix_spawn again",
    }

    @classmethod
    def version(cls, tools):
        return "bench/tools/floor.cpp"

    def prepare(self, workload):
        self.workload = workload
        self.names_file = self.path("names")
        with open(self.names_file, "w") as f:
            f.write("\n".join(workload.names) + "\n")
        self.ctl_env = self.env(workload)

    def launch(self):
        self.process = self.popen([self.tools.floor, *self.spawn_flags, self.names_file, self.workload.announce],
                                  self.ctl_env, "floor.log")

    def status_argv(self):
        return ["/bin/true"]

    def status_names(self, output):
        return None  # nothing to check: the floor has no status

    def stop_all(self):
        self.terminate_main(signal.SIGTERM)


class FloorFork(Floor):
    """The floor with fork+exec instead of posix_spawn: what a classic supervisor's spawn costs."""

    name = "floor-fork"
    spawn_flags = ["--fork"]
    commands = dict(Floor.commands, start="bench-floor --fork NAMES PROGRAM (fork+exec of each)",
                    restart="waitpid, then fork+exec again")
