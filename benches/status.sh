#!/usr/bin/env bash
# nfsha status on a server node in its grace period, side by side with what an
# admin types to learn the same from the standard tools, in one run.
#
# This host has no kernel nfsd, so the nfsd control files (threads, lease,
# grace, v4_end_grace, 200 clients' info) and nfsd's 8 kernel threads are
# files in a temporary root written in Linux 6.1's formats; the process table
# beside them is a copy of this host's (/proc/<pid>/stat of every process), and
# the kernel log is the real /dev/kmsg. nfsdcld's database (200 clients,
# written by sqlite3) and etab are real files. Both sides read the same files.
#
# Three states: in grace (the failover case: 100 of 200 clients reclaimed),
# after grace ended early (nfsha then also reads the kernel log, to say when),
# and a passive node (nfsd stopped).
#
# usage: benches/status.sh [ITERATIONS] [NFSHA_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-200}"
bin="$(realpath "${2:-target/x86_64-unknown-linux-gnu/release/nfsha}")"
command -v sqlite3 >/dev/null || { echo "needs sqlite3 (apt-get install sqlite3)" >&2; exit 1; }
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{nfsd/clients,rsctmp,state/nfsdcld,systemd,varlib,conf.d,proc}
# This host's process table, and nfsd's kernel threads started 30 s ago.
for d in /proc/[0-9]*; do
    mkdir -p "$root/proc/${d#/proc/}" && cat "$d/stat" >"$root/proc/${d#/proc/}/stat" 2>/dev/null || true
done
start=$(awk '{printf "%d", ($1 - 30) * 100}' /proc/uptime)
for pid in $(seq 900000 900007); do
    mkdir -p "$root/proc/$pid"
    echo "$pid (nfsd) S 2 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 $start 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0" >"$root/proc/$pid/stat"
done
echo 8 >"$root/nfsd/threads"
echo 90 >"$root/nfsd/nfsv4leasetime"
echo 90 >"$root/nfsd/nfsv4gracetime"
echo N >"$root/nfsd/v4_end_grace"
echo "-2 -3 +4 -4.0 +4.1 +4.2" >"$root/nfsd/versions"
printf 'mode=systemd\nhostname=nfs-ha\npids=\n' >"$root/rsctmp/nfsha-nfsserver-state"
printf 'directory=/srv/nfs-state\nbacking=drbd0\n' >"$root/rsctmp/nfsha-nfsstate-_srv_nfs-state"
printf '[nfsdcld]\nstoragedir=%s/state/nfsdcld\n' "$root" >"$root/nfs.conf"
sql="CREATE TABLE parameters (key TEXT PRIMARY KEY, value TEXT);
INSERT INTO parameters VALUES ('version','4');
CREATE TABLE grace (current INTEGER, recovery INTEGER);
INSERT INTO grace VALUES (6, 5);
CREATE TABLE \"rec-0000000000000005\" (id BLOB PRIMARY KEY, princhash BLOB);
CREATE TABLE \"rec-0000000000000006\" (id BLOB PRIMARY KEY, princhash BLOB);"
for i in $(seq 1 200); do
    mkdir -p "$root/nfsd/clients/$i"
    printf 'clientid: 0x%016x\naddress: "192.0.2.%d:875"\nstatus: confirmed\nseconds from last renew: 3\nname: "Linux NFSv4.2 client-%d"\nminor version: 2\ncallback state: UP\n' \
        "$i" "$((i % 250))" "$i" >"$root/nfsd/clients/$i/info"
    sql+="INSERT INTO \"rec-0000000000000005\" (id) VALUES (CAST('Linux NFSv4.2 client-$i' AS BLOB));"
    [ $((i % 2)) -eq 0 ] && sql+="INSERT INTO \"rec-0000000000000006\" (id) VALUES (CAST('Linux NFSv4.2 client-$i' AS BLOB));"
done
sqlite3 "$root/state/nfsdcld/main.sqlite" <<<"$sql"
for i in $(seq 1 10); do
    printf '/srv/nfs/e%d\t192.0.2.0/24(rw,sync,wdelay,hide,no_subtree_check,fsid=%d,sec=sys)\n' "$i" "$i"
done >"$root/varlib/etab"
export NFSHA_PROC="$root/proc" NFSHA_PROC_NFSD="$root/nfsd" HA_RSCTMP="$root/rsctmp" NFSHA_NFS_CONF="$root/nfs.conf" \
    NFSHA_NFS_CONF_D="$root/conf.d" NFSHA_SYSTEMD_DIR="$root/systemd" NFSHA_VAR_LIB_NFS="$root/varlib"
db="$root/state/nfsdcld/main.sqlite"
# The standard tools' way to the same figures: the control files, every
# client's info, nfsdcld's epochs and who reclaimed, the exports, DRBD, the
# kernel's grace messages.
manual="cat $root/nfsd/threads $root/nfsd/nfsv4leasetime $root/nfsd/nfsv4gracetime $root/nfsd/v4_end_grace >/dev/null
cat $root/nfsd/clients/*/info >/dev/null
sqlite3 $db 'SELECT * FROM grace;' >/dev/null
sqlite3 $db 'SELECT count(*) FROM \"rec-0000000000000005\" r JOIN \"rec-0000000000000006\" c ON r.id = c.id;' >/dev/null
cat $root/varlib/etab >/dev/null
cat /proc/drbd >/dev/null 2>&1 || true
dmesg | grep NFSD >/dev/null || true"
echo "kernel $(uname -r), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), $(ls -d /proc/[0-9]* | wc -l) processes, $(dmesg | wc -l) kernel log records, $(date -u +%Y-%m-%d)"
python3 - "$n" "$bin" "$manual" "$root" <<'EOF'
import resource, statistics, subprocess, sys, time
n, nfsha, manual, root = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
def put(name, text):
    with open(f"{root}/nfsd/{name}", "w") as f:
        f.write(text)
def bench(label, argv):
    walls, cpus = [], []
    for i in range(n + 3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if i >= 3:  # warm-up
            walls.append(wall)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    walls.sort()
    return label, statistics.median(walls), walls[int(len(walls) * 0.95) - 1], statistics.mean(cpus)
rows = [bench("nfsha status, in grace", [nfsha, "status"]),
        bench("nfsha status --json, in grace", [nfsha, "status", "--json"]),
        bench("the same by hand (cat, sqlite3 x2, dmesg)", ["sh", "-c", manual])]
put("v4_end_grace", "Y\n")
rows.append(bench("nfsha status, grace ended early (reads the kernel log)", [nfsha, "status"]))
put("threads", "0\n")
rows.append(bench("nfsha status, passive node (nfsd stopped)", [nfsha, "status"]))
print("| what | median wall (ms) | p95 wall (ms) | mean CPU (ms) | runs |")
print("|---|---|---|---|---|")
for label, med, p95, cpu in rows:
    print(f"| {label} | {med * 1000:.1f} | {p95 * 1000:.1f} | {cpu * 1000:.1f} | {n} |")
EOF
