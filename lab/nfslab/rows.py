"""A result row: one scenario (or one repeat of it) on one layout."""
from .common import log


def result(ctx, scenario, name, ok, reasons, **fig):
    r = {"scenario": scenario, "name": name, "agents": ctx.layout.name, "init": ctx.init,
         "pass": ok, "reasons": reasons}
    r.update(fig)
    log("%s scenario %s (%s, %s layout)%s" % ("PASS" if ok else "FAIL", scenario, name, ctx.layout.name,
                                             "" if ok else ": " + "; ".join(reasons)))
    return r
