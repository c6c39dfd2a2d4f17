#!/usr/bin/env python3
"""Time OCF agent actions side by side: median wall time and CPU time
(user+sys of the agent process and its children) over many runs, the agents
taking turns so that each sees the same machine load.

usage: ocfbench.py ITERATIONS LABEL=AGENT_PATH:ACTION:k=v,k=v ...
Each agent runs with OCF_ROOT=/usr/lib/ocf and its OCF_RESKEY_* parameters,
as Pacemaker would call it. Prints a Markdown table.
"""
import os
import resource
import statistics
import subprocess
import sys
import time


def run_once(path, action, env):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    rc = subprocess.run([path, action], env=env, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL).returncode
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return rc, wall, cpu


def main():
    iterations = int(sys.argv[1])
    specs = []
    for spec in sys.argv[2:]:
        label, rest = spec.split("=", 1)
        path, action, params = rest.split(":", 2)
        env = {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "OCF_ROOT": "/usr/lib/ocf",
            "OCF_RESOURCE_INSTANCE": "bench",
            "OCF_RESKEY_CRM_meta_interval": "10000",
            "OCF_RESKEY_CRM_meta_timeout": "20000",
        }
        # The resource state directory, when the bench gives one its own.
        if "HA_RSCTMP" in os.environ:
            env["HA_RSCTMP"] = os.environ["HA_RSCTMP"]
        for kv in filter(None, params.split(",")):
            k, v = kv.split("=", 1)
            env["OCF_RESKEY_" + k] = v
        for _ in range(3):  # warm the page cache
            run_once(path, action, env)
        specs.append((label, path, action, env, [], [], set()))
    # Round robin: every agent sees the same load over the run.
    for _ in range(iterations):
        for label, path, action, env, walls, cpus, codes in specs:
            rc, wall, cpu = run_once(path, action, env)
            walls.append(wall)
            cpus.append(cpu)
            codes.add(rc)
    rows = [(label, action, codes, statistics.median(walls), statistics.mean(cpus))
            for label, path, action, env, walls, cpus, codes in specs]
    print(f"| agent | action | exit codes | median wall (ms) | mean CPU (ms) | runs |")
    print(f"|---|---|---|---|---|---|")
    for label, action, codes, wall, cpu in rows:
        print(f"| {label} | {action} | {','.join(map(str, sorted(codes)))} | "
              f"{wall * 1000:.2f} | {cpu * 1000:.2f} | {iterations} |")
    if len(rows) >= 2:
        base, ours = rows[0], rows[-1]
        print()
        print(f"{ours[0]} vs {base[0]}: {base[3] / ours[3]:.1f}x less wall time, "
              f"{base[4] / max(ours[4], 1e-9):.1f}x less CPU")


if __name__ == "__main__":
    main()
