"""The managers the harness knows, by the name used on the command line."""

from .floor import Floor, FloorFork
from .nixpm import Nixpm
from .pm2 import Pm2
from .runit import Runit
from .s6 import S6
from .supervisord import Supervisord

MANAGERS = {m.name: m for m in (Nixpm, Floor, Supervisord, Runit, S6, Pm2, FloorFork)}
DEFAULT = ["nixpm", "floor", "supervisord", "runit", "s6", "pm2"]
