#!/bin/bash
# Benchmark `nfsha lint` against `crm_verify -x` on the same inputs, in one run:
#  1. the 855-file Pacemaker scheduler corpus (../shared/corpus/pacemaker-scheduler/xml, or
#     $NFSHA_SHARED/corpus/… for a checkout elsewhere);
#  2. a generated CIB with 10,000 resources and 20,000 constraints (gen-big-cib.py).
# Usage: benches/lint.sh [path/to/nfsha]   (default: target/x86_64-unknown-linux-gnu/release/nfsha, built if missing)
# Prints a Markdown table (best of 3 runs for nfsha, one run of crm_verify); times and peak RSS come from /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
nfsha=${1:-target/x86_64-unknown-linux-gnu/release/nfsha}
[ -x "$nfsha" ] || cargo build --release --quiet
corpus=${NFSHA_SHARED:-../shared}/corpus/pacemaker-scheduler/xml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 benches/gen-big-cib.py > "$work/big.xml"
mapfile -t files < <(ls "$corpus"/*.xml)

# measure RUNS NAME CMD...: best of RUNS runs; wall seconds, CPU seconds (user+sys,
# which a loaded shared machine disturbs less) and peak RSS in MB.
measure() {
    local runs=$1 name=$2; shift 2
    local best="" line
    for _ in $(seq "$runs"); do
        /usr/bin/time -f '%e %U %S %M' -o "$work/t" "$@" > /dev/null 2>&1 || true
        line=$(tail -n 1 "$work/t")   # time prefixes a line when the exit status is not 0
        if [ -z "$best" ] || awk -v a="$line" -v b="$best" 'BEGIN{split(a,x," ");split(b,y," ");exit !(x[1]<y[1])}'; then
            best=$line
        fi
    done
    read -r secs user sys kb <<< "$best"
    printf '| %s | %s s | %.2f s | %d MB |\n' "$name" "$secs" "$(echo "$user + $sys" | bc)" $((kb / 1024))
}

# crm_verify takes one file per process; run them all in one shell loop.
verify_all() { for f in "$@"; do crm_verify -x "$f" > /dev/null 2>&1 || true; done; }
export -f verify_all

echo "| run | wall time | CPU time | peak RSS |"
echo "|---|---|---|---|"
"$nfsha" lint "${files[@]}" > /dev/null 2>&1 || true   # warm the page cache
measure 3 "nfsha lint, corpus (${#files[@]} files, one process)" "$nfsha" lint "${files[@]}"
measure 1 "crm_verify -x, corpus (${#files[@]} processes)" bash -c 'verify_all "$@"' _ "${files[@]}"
measure 3 "nfsha lint, 10,000 resources / 20,000 constraints" "$nfsha" lint "$work/big.xml"
measure 3 "nfsha order, same CIB" "$nfsha" order "$work/big.xml"
measure 1 "crm_verify -x, same CIB" crm_verify -x "$work/big.xml"
