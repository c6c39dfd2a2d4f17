#!/bin/bash
# Benchmark `nfsha lint` against `crm_verify -x` on the same inputs, in one run:
#  1. the 855-file Pacemaker scheduler corpus (../shared/corpus/pacemaker-scheduler/xml);
#  2. a generated CIB with 10,000 resources and 20,000 constraints (gen-big-cib.py).
# Usage: benches/lint.sh [path/to/nfsha]   (default: target/release/nfsha, built if missing)
# Prints a Markdown table; wall time and peak RSS come from /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
nfsha=${1:-target/release/nfsha}
[ -x "$nfsha" ] || cargo build --release --quiet
corpus=../shared/corpus/pacemaker-scheduler/xml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 benches/gen-big-cib.py > "$work/big.xml"
mapfile -t files < <(ls "$corpus"/*.xml)

# measure NAME CMD...: run once, print wall seconds and peak RSS in MB.
measure() {
    local name=$1; shift
    /usr/bin/time -f '%e %M' -o "$work/t" "$@" > /dev/null 2>&1 || true
    read -r secs kb < "$work/t"
    printf '| %s | %s s | %d MB |\n' "$name" "$secs" $((kb / 1024))
}

# crm_verify takes one file per process; run them all in one shell loop.
verify_all() { for f in "$@"; do crm_verify -x "$f" > /dev/null 2>&1 || true; done; }
export -f verify_all

echo "| run | wall time | peak RSS |"
echo "|---|---|---|"
"$nfsha" lint "${files[@]}" > /dev/null 2>&1 || true   # warm the page cache
measure "nfsha lint, corpus (${#files[@]} files, one process)" "$nfsha" lint "${files[@]}"
measure "crm_verify -x, corpus (${#files[@]} processes)" bash -c 'verify_all "$@"' _ "${files[@]}"
measure "nfsha lint, 10,000 resources / 20,000 constraints" "$nfsha" lint "$work/big.xml"
measure "nfsha order, same CIB" "$nfsha" order "$work/big.xml"
measure "crm_verify -x, same CIB" crm_verify -x "$work/big.xml"
