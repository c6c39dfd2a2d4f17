#!/usr/bin/env python3
"""Derive the `pcs config`, CIB XML and `crm configure show` forms of some
published configurations in this directory, with the real tools, so the
corpus holds one cluster in several dialects. Run from this directory on
Debian 12 with pcs 0.11.5, crmsh 4.4, pacemaker-cli-utils, resource-agents
and drbd-utils installed. The outputs are committed; this records how.

    ./derive.py
"""
import os, re, shlex, shutil, subprocess, sys, tempfile

def logical_lines(text):
    out, cur = [], ""
    for line in text.splitlines():
        if line.rstrip().endswith("\\"):
            cur += line.rstrip()[:-1] + " "
            continue
        out.append(cur + line)
        cur = ""
    if cur:
        out.append(cur)
    return out

PROMPT = re.compile(r"^\s*(\[[^\]]*\][#$]?|[\w.@:~/-]*[#$]|crm\([^)]*\)\w*#)\s*")

def commands(text, first):
    """The `first` commands (pcs or crm statements) of a transcript, as words."""
    env = {}
    for line in logical_lines(text):
        line = PROMPT.sub("", line, count=1).strip()
        m = re.fullmatch(r"([A-Za-z_]\w*)=(\S*)", line)
        if m:
            env[m.group(1)] = m.group(2)
            continue
        for k, v in env.items():
            line = line.replace("${%s}" % k, v).replace("$" + k, v)
        if line.startswith("sudo "):
            line = line[5:]
        if not line.startswith(first + " "):
            continue
        words = shlex.split(line, comments=True)
        if words and words[0] == first:
            yield words

def pcs(script, stem):
    d = tempfile.mkdtemp()
    live = os.path.join(d, "cib.xml")
    open(live, "wb").write(subprocess.run(["cibadmin", "--empty"], capture_output=True, check=True).stdout)
    files = lambda n: os.path.join(d, "f-" + n.replace("/", "_"))
    for w in commands(open(script).read(), "pcs"):
        target, args, i = live, [], 1
        while i < len(w):
            if w[i] == "-f":
                target = files(w[i + 1]); i += 2; continue
            args.append(w[i]); i += 1
        if args[:2] == ["cluster", "cib"] and len(args) == 3:
            shutil.copy(live, files(args[2])); continue
        if args[:2] == ["cluster", "cib-push"]:
            shutil.copy(files(args[2]), live); continue
        if args and args[0] in ("status", "cluster", "host"):
            continue
        # This machine also has nfsha's agents: name ClusterLabs' in full,
        # as pcs on a Red Hat or SUSE node resolves them.
        if args[:2] == ["resource", "create"] and args[3] in ("nfsserver", "exportfs"):
            args[3] = "ocf:heartbeat:" + args[3]
        r = subprocess.run(["pcs", "-f", target] + args, capture_output=True, text=True)
        if r.returncode != 0 and "--force" in r.stderr:
            r = subprocess.run(["pcs", "-f", target] + args + ["--force"], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"{script}: pcs {' '.join(args)}: {r.stderr}")
    cfg = subprocess.run(["pcs", "-f", live, "config"], capture_output=True, text=True, check=True).stdout
    open(stem + ".pcs-config.txt", "w").write(cfg)
    shutil.copy(live, stem + ".xml")

def crm(script, stem):
    d = tempfile.mkdtemp()
    cib = os.path.join(d, "cib.xml")
    open(cib, "wb").write(subprocess.run(["cibadmin", "--empty"], capture_output=True, check=True).stdout)
    stmts = []
    for line in logical_lines(open(script).read()):
        line = PROMPT.sub("", line, count=1).strip()
        line = re.sub(r"^(sudo )?crm (-\S+ )*configure ", "", line)
        if line.split()[:1] and line.split()[0] in ("primitive", "clone", "ms", "group", "order",
                "colocation", "property", "rsc_defaults", "op_defaults", "modgroup", "location"):
            stmts.append(line)
    body = "configure\n" + "\n".join(stmts) + "\ncommit\n"
    f = os.path.join(d, "script.crm")
    open(f, "w").write(body)
    env = dict(os.environ, CIB_file=cib)
    r = subprocess.run(["crm", "-F", "-f", f], env=env, capture_output=True, text=True)
    show = subprocess.run(["crm", "configure", "show"], env=env, capture_output=True, text=True, check=True).stdout
    if "primitive" not in show:
        sys.exit(f"{script}: crm made nothing: {r.stderr}")
    open(stem + ".crm-show.txt", "w").write(show)
    shutil.copy(cib, stem + ".xml")

for src, stem in [("p01-phd-nfs-active-passive.scenario", "d01-phd-nfs-active-passive"),
                  ("p03-phd-nfs-complex.scenario", "d03-phd-nfs-complex"),
                  ("p05-samli008-drbd-nfs.sh", "d05-samli008-drbd-nfs"),
                  ("p07-rhel8-guide.txt", "d07-rhel8-guide")]:
    pcs(src, stem)
for src, stem in [("c01-suse-sle15sp6-modgroup.txt", "d11-suse-sle15sp6"),
                  ("c04-azure-sap-nfs-sles.sh", "d14-azure-sap-nfs-sles"),
                  ("c07-drbd-formula-nfs.txt", "d17-drbd-formula-nfs")]:
    crm(src, stem)
