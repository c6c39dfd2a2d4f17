"""The cluster layouts, one module each; a module defines LAYOUT (a Layout subclass).
Adding a layout is adding a file here."""
import importlib
import pkgutil

from .base import Layout

REGISTRY = {}
for _m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _m.name == "base":
        continue
    _mod = importlib.import_module("%s.%s" % (__name__, _m.name))
    REGISTRY[_mod.LAYOUT.name] = _mod.LAYOUT

# the order layouts run in when several are asked for
ORDER = ["nfsha", "linbit", "clusterlabs"] + sorted(set(REGISTRY) - {"nfsha", "clusterlabs", "linbit"})


def get(name, args, no_scope=False):
    return REGISTRY[name](args, no_scope=no_scope)


__all__ = ["Layout", "REGISTRY", "ORDER", "get"]
