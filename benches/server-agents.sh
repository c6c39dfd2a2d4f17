#!/bin/bash
# Benchmark: monitor cost of nfsha's server agents against ClusterLabs'
# equivalents in one run, and the duration of an exportfs stop.
#
#   sudo benches/server-agents.sh [path/to/nfsha] [iterations]   (Markdown on stdout; figures in BENCHMARKS.md)
#
# Runs on a host without kernel nfsd or DRBD, like the integration tests:
# real ext4 on a loop device, real mount, unshare and exportfs (the real
# /var/lib/nfs/etab), and STAND-INS for what is missing: a drbdsetup that
# reports Primary, and processes named rpc.mountd, nfsdcld and nfsd (the
# last one is what ClusterLabs' init-script status looks for). The nfsd
# control files are a temporary directory (NFSHA_PROC_NFSD).
#
# Both sides monitor the same running state: nfsha nfsserver vs
# ocf:heartbeat:nfsserver (nfsv4_only=true, the matching configuration),
# nfsha exportfs vs ocf:heartbeat:exportfs on the same export, nfsha
# nfsstate vs ocf:heartbeat:Filesystem on the same mount. Monitor CPU is
# user+sys of the agent and everything it runs, per call, with each call
# spawned like Pacemaker's executor does it (benches/spawn-cpu.py); stop
# CPU comes from bash's `times`.
set -euo pipefail

NFSHA=${1:-$(dirname "$0")/../target/x86_64-unknown-linux-gnu/release/nfsha}
N=${2:-200}
NFSHA=$(readlink -f "$NFSHA")
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
for t in losetup mkfs.ext4 exportfs unshare; do
    command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }
done
HB=/usr/lib/ocf/resource.d/heartbeat
[ -x "$HB/nfsserver" ] || { echo "missing resource-agents ($HB)" >&2; exit 1; }

T=$(mktemp -d /tmp/nfsha-bench.XXXXXX)
PIDS=()
LOOP=
cleanup() {
    set +e
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    exportfs -u "198.51.100.250:$T/export" 2>/dev/null
    umount "$T/export" 2>/dev/null
    umount "$T/state" 2>/dev/null
    [ -n "$LOOP" ] && losetup -d "$LOOP"
    rm -rf "$T"
}
trap cleanup EXIT

truncate -s 32M "$T/state.img"
LOOP=$(losetup --find --show "$T/state.img")
mkfs.ext4 -q -F "$LOOP"
MINOR=$((200 + ${LOOP#/dev/loop}))
mkdir -p "$T/dev" "$T/bin" "$T/nfsd" "$T/state" "$T/export" "$T/rsctmp"
mknod "$T/dev/drbd$MINOR" b "$(stat -c '%t' "$LOOP" | xargs printf '%d')" "$(stat -c '%T' "$LOOP" | xargs printf '%d')"
printf '8\n' > "$T/nfsd/threads"
printf '90\n' > "$T/nfsd/nfsv4leasetime"
printf '90\n' > "$T/nfsd/nfsv4gracetime"
printf -- '-3 +4 -4.0 +4.1 +4.2\n' > "$T/nfsd/versions"
: > "$T/nfsd/unlock_filesystem"
cat > "$T/bin/drbdsetup" <<EOS
#!/bin/sh
# STAND-IN for drbdsetup (no DRBD here): always Primary.
printf '[{"name":"bench","role":"Primary","devices":[{"volume":0,"minor":$MINOR,"disk-state":"UpToDate"}]}]\n'
EOS
# STAND-IN for /proc/drbd as DRBD 8.4 (Debian 12's module) shows it: the
# role is read from this file, no process is started. (DRBD 9 has no
# per-minor lines there; nfsstate then runs `drbdsetup status --json`.)
printf 'version: 8.4.11 (api:1/proto:86-101)\n%s: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n' "$MINOR" > "$T/proc_drbd"
for d in rpc.mountd nfsdcld nfsd; do
    printf '#!/bin/sh\n# STAND-IN for %s: runs until signalled.\nwhile :; do sleep 1; done\n' "$d" > "$T/bin/$d"
done
chmod +x "$T"/bin/*
printf '[nfsdcld]\nstoragedir=%s/state/nfsdcld\n[nfsdcltrack]\nstoragedir=%s/state/nfsdcltrack\n' "$T" "$T" > "$T/nfs.conf"
for d in rpc.mountd nfsdcld nfsd; do "$T/bin/$d" & PIDS+=($!); done
mount -t tmpfs -o size=1m nfsha-bench "$T/export"

export PATH="$T/bin:$PATH" HA_RSCTMP="$T/rsctmp" OCF_ROOT=/usr/lib/ocf
export NFSHA_PROC_NFSD="$T/nfsd" NFSHA_NFS_CONF="$T/nfs.conf" NFSHA_NFS_CONF_D="$T/none"
export NFSHA_PROC_DRBD="$T/proc_drbd" NFSHA_RUN_SYSTEMD="$T/none" NFSHA_RUN_DIR="$T/run"
export OCF_RESKEY_CRM_meta_interval=10000 OCF_RESKEY_CRM_meta_timeout=20000

# Parameters are exported in the forked child, so no extra `env` process
# is counted on either side.
# nfsha's agents are called through their provider symlinks, as Pacemaker
# calls them (the binary then skips its command-line parser).
mkdir -p "$T/ocf"
for a in nfsstate nfsserver exportfs; do ln -s "$NFSHA" "$T/ocf/$a"; done
ag() { local a=$1 act=$2; shift 2; ( export "$@"; exec "$T/ocf/$a" "$act" ); }
hb() { local a=$1 act=$2; shift 2; ( export "$@"; exec "$HB/$a" "$act" ); }
STATE=(OCF_RESKEY_directory="$T/state" OCF_RESKEY_device="$T/dev/drbd$MINOR")
SERVER=(OCF_RESKEY_server_hostname=nfs-ha OCF_RESKEY_state_directory="$T/state")
EXPORT=(OCF_RESKEY_directory="$T/export" OCF_RESKEY_clientspec=198.51.100.250 OCF_RESKEY_options=rw,sync,no_subtree_check OCF_RESKEY_fsid=4242)
HB_EXPORT=(OCF_RESOURCE_INSTANCE=hb-export OCF_RESKEY_directory="$T/export" OCF_RESKEY_clientspec=198.51.100.250 OCF_RESKEY_options=rw,sync,no_subtree_check OCF_RESKEY_fsid=4242)
HB_FS=(OCF_RESOURCE_INSTANCE=hb-fs OCF_RESKEY_device="$T/dev/drbd$MINOR" OCF_RESKEY_directory="$T/state" OCF_RESKEY_fstype=ext4)
HB_SERVER=(OCF_RESOURCE_INSTANCE=hb-nfs OCF_RESKEY_nfsv4_only=true)

ag nfsstate start "${STATE[@]}" OCF_RESOURCE_INSTANCE=st
# nfsserver's real start, minus the kernel: threads already "run", so make
# the stand-in record that nfsha started it (the marker start writes).
printf '0\n' > "$T/nfsd/threads"
cat > "$T/bin/rpc.nfsd" <<EOS
#!/bin/sh
# STAND-IN for rpc.nfsd: sets the thread count like the kernel would.
for last; do :; done; echo "\$last" > "$T/nfsd/threads"
EOS
chmod +x "$T/bin/rpc.nfsd"
kill "${PIDS[0]}" "${PIDS[1]}"; PIDS=("${PIDS[2]}")   # let nfsserver start its own helpers
ag nfsserver start "${SERVER[@]}" OCF_RESOURCE_INSTANCE=srv
ag exportfs start "${EXPORT[@]}" OCF_RESOURCE_INSTANCE=ex

# Per-call CPU and wall (µs) of an agent call, N times, as "rc cpu wall":
# spawned like Pacemaker's executor spawns agents (fork/exec from a small
# daemon), CPU from wait4's rusage (see spawn-cpu.py).
measure() { python3 "$(dirname "$0")/spawn-cpu.py" "$N" "$@"; }
# Bash's `times` (children's user+sys so far, µs) for the stop timings.
cpu_now() {
    times > "$T/times"
    local u s
    { read -r _ _; read -r u s; } < "$T/times"
    CPU_US=$(( $(to_us "$u") + $(to_us "$s") ))
}
# "1m2.345s" → µs
to_us() {
    local v=${1%s} m=${1%%m*}
    v=${v#*m}
    local whole=${v%.*} frac=${v#*.}
    frac=${frac}000000; frac=${frac:0:6}
    echo $(( (10#$m * 60 + 10#$whole) * 1000000 + 10#$frac ))
}

row() {
    local name=$1 ours=$2 theirs=$3
    read -r rc_o cpu_o wall_o <<< "$ours"
    read -r rc_t cpu_t wall_t <<< "$theirs"
    local ratio="n/a"
    [ "$cpu_o" -gt 0 ] && ratio=$(awk -v a="$cpu_t" -v b="$cpu_o" 'BEGIN{printf "%.0f×", a/b}')
    printf '| %s | %d | %d.%03d | %d.%03d | %d | %d.%03d | %d.%03d | %s |\n' "$name" \
        "$rc_o" $((cpu_o / 1000)) $((cpu_o % 1000)) $((wall_o / 1000)) $((wall_o % 1000)) \
        "$rc_t" $((cpu_t / 1000)) $((cpu_t % 1000)) $((wall_t / 1000)) $((wall_t % 1000)) "$ratio"
}

hb exportfs start "${HB_EXPORT[@]}" OCF_RESKEY_wait_for_leasetime_on_stop=false >/dev/null 2>&1

ours_state=$(measure "${STATE[@]}" OCF_RESOURCE_INSTANCE=st -- "$T/ocf/nfsstate" monitor)
hb_fs=$(measure "${HB_FS[@]}" -- "$HB/Filesystem" monitor)
ours_srv=$(measure "${SERVER[@]}" OCF_RESOURCE_INSTANCE=srv -- "$T/ocf/nfsserver" monitor)
hb_srv=$(measure "${HB_SERVER[@]}" -- "$HB/nfsserver" monitor)
ours_exp=$(measure "${EXPORT[@]}" OCF_RESOURCE_INSTANCE=ex -- "$T/ocf/exportfs" monitor)
hb_exp=$(measure "${HB_EXPORT[@]}" -- "$HB/exportfs" monitor)
# The floor: a static program that does nothing, spawned the same way.
floor=none
if bb=$(command -v busybox) && ! ldd "$bb" >/dev/null 2>&1; then
    read -r _ floor_cpu floor_wall <<< "$(measure -- "$bb" true)"
    floor="$((floor_cpu / 1000)).$(printf '%03d' $((floor_cpu % 1000))) ms CPU, $((floor_wall / 1000)).$(printf '%03d' $((floor_wall % 1000))) ms wall"
fi

# exportfs stop: time N start/stop cycles' stops only (µs wall, per stop).
stop_wall() {
    local total=0 t0 t1 c0 cpu=0
    for ((i = 0; i < N / 4; i++)); do
        "$@" start >/dev/null 2>&1
        cpu_now; c0=$CPU_US; t0=$(date +%s%N)
        "$@" stop >/dev/null 2>&1
        t1=$(date +%s%N); cpu_now
        total=$((total + (t1 - t0) / 1000)); cpu=$((cpu + CPU_US - c0))
    done
    echo "$((total / (N / 4))) $((cpu / (N / 4)))"
}
ex_ours() { ag exportfs "$1" "${EXPORT[@]}" OCF_RESOURCE_INSTANCE=ex; }
ex_hb() { hb exportfs "$1" "${HB_EXPORT[@]}" OCF_RESKEY_wait_for_leasetime_on_stop=false; }
ag exportfs stop "${EXPORT[@]}" OCF_RESOURCE_INSTANCE=ex
ex_hb stop >/dev/null 2>&1
read -r stop_ours stop_ours_cpu <<< "$(stop_wall ex_ours)"
read -r stop_hb stop_hb_cpu <<< "$(stop_wall ex_hb)"

ag nfsserver stop "${SERVER[@]}" OCF_RESOURCE_INSTANCE=srv >/dev/null 2>&1
ag nfsstate stop "${STATE[@]}" OCF_RESOURCE_INSTANCE=st >/dev/null 2>&1

cat <<EOT
## Server agents: monitor cost and exportfs stop time

Measured $(date -u +%Y-%m-%d) on $(uname -m), $(nproc) CPUs, kernel $(uname -r), with
\`benches/server-agents.sh $(basename "$NFSHA") $N\` ($N calls each, one run; nfsha
binary: \`$NFSHA\`, resource-agents $(dpkg-query -W -f='${Version}' resource-agents 2>/dev/null || echo '?')).
Each call is spawned like Pacemaker's executor spawns an agent (posix_spawn,
\`benches/spawn-cpu.py\`); CPU is user+sys of the agent and every process it
runs (wait4 rusage); wall is elapsed time; both per call, in milliseconds. rc is
the exit code of the first call (0 = running). Floor (a static no-op,
\`busybox true\`, spawned the same way): $floor.

| monitor | nfsha rc | nfsha CPU ms | nfsha wall ms | ClusterLabs rc | ClusterLabs CPU ms | ClusterLabs wall ms | CPU ratio |
|---|---|---|---|---|---|---|---|
$(row "nfsstate vs Filesystem (same mount)" "$ours_state" "$hb_fs")
$(row "nfsserver vs nfsserver (nfsv4_only)" "$ours_srv" "$hb_srv")
$(row "exportfs vs exportfs (same export)" "$ours_exp" "$hb_exp")

exportfs stop (unexport + unlock, $((N / 4)) stops each, mean per stop):

| agent | wall ms | CPU ms | sleeps |
|---|---|---|---|
| nfsha exportfs | $((stop_ours / 1000)).$(printf '%03d' $((stop_ours % 1000))) | $((stop_ours_cpu / 1000)).$(printf '%03d' $((stop_ours_cpu % 1000))) | none |
| ClusterLabs exportfs, wait_for_leasetime_on_stop=false | $((stop_hb / 1000)).$(printf '%03d' $((stop_hb % 1000))) | $((stop_hb_cpu / 1000)).$(printf '%03d' $((stop_hb_cpu % 1000))) | none |
| ClusterLabs exportfs, wait_for_leasetime_on_stop=true | ≥ 92 000 (not run: \`sleep\` of lease + 2 s, 90 s default lease) | – | lease + 2 s |

Stand-ins (this host has no kernel nfsd and no DRBD): \`drbdsetup\`, \`rpc.nfsd\`,
\`rpc.mountd\`, \`nfsdcld\` and a process named \`nfsd\` for ClusterLabs' status check;
the nfsd control files are a temporary directory. Everything else is real:
ext4 on a loop device, mount, unshare, exportfs and /var/lib/nfs/etab.
EOT
