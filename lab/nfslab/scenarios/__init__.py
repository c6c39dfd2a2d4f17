"""The scenarios, one module each. A module defines NUMBER, NAME and run(ctx) -> rows;
optionally prepare(ctx) (called once after the lab is up when the scenario is in the
boot's plan), NEEDS_BOTH_SERVERS (default True: fenced servers rejoin first) and
HEARTBEAT_WATCHES (scenario 6 checks the heartbeat across it). Adding a scenario is
adding a file here."""
import importlib
import pkgutil

REGISTRY = {}
for _m in pkgutil.iter_modules(__path__):
    _mod = importlib.import_module("%s.%s" % (__name__, _m.name))
    if hasattr(_mod, "NUMBER"):
        REGISTRY[_mod.NUMBER] = _mod

NAMES = {n: m.NAME for n, m in REGISTRY.items()}
