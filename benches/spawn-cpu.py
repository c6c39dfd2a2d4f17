#!/usr/bin/env python3
"""Run a command N times the way Pacemaker's executor does (a plain
fork/exec from a small daemon, here posix_spawn from Python) and print
"rc cpu_us wall_us": the first call's exit code, then the mean CPU
(user+sys from wait4's rusage: the agent and every process it waited for)
and the mean elapsed time per call.

    spawn-cpu.py N [VAR=value ...] -- program [args ...]

Measuring through wait4 charges each agent with its own exec and work
only, not with a shell subshell's copy-on-write faults before the exec
(which is what bash's `times` around `( export ...; exec agent )` adds to
both sides).
"""
import os
import sys
import time


def main(argv):
    n = int(argv[1])
    sep = argv.index("--")
    env = dict(os.environ)
    for kv in argv[2:sep]:
        k, _, v = kv.partition("=")
        env[k] = v
    prog = argv[sep + 1:]
    null = os.open(os.devnull, os.O_WRONLY)
    actions = [(os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)]
    rc0 = None
    cpu = 0.0
    t0 = time.monotonic()
    for _ in range(n):
        pid = os.posix_spawn(prog[0], prog, env, file_actions=actions)
        _, status, ru = os.wait4(pid, 0)
        if rc0 is None:
            rc0 = os.waitstatus_to_exitcode(status)
        cpu += ru.ru_utime + ru.ru_stime
    wall = time.monotonic() - t0
    print("%d %d %d" % (rc0, cpu / n * 1e6, wall / n * 1e6))


if __name__ == "__main__":
    main(sys.argv)
