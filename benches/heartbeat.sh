#!/bin/bash
# Benchmark of the storage heartbeat: filesystem operations per renewal (IOPS
# per host), detection time and fence time, against the FUSE filesystem the
# tests use (needs /dev/fuse and fusermount3: apt-get install fuse3).
# Writes its tables to target/heartbeat-bench.md (the figures in BENCHMARKS.md come from it).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/heartbeat-bench.md}"
NFSHA_BENCH_OUT="$(realpath -m "$out")" cargo test --release --test bench_heartbeat -- --nocapture --test-threads=1
echo "wrote $out"
