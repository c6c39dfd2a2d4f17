#!/bin/bash
# Benchmark of CloudStack's heartbeat check as the agent runs it: nfsha with
# the heartbeat daemon running, nfsha without it, and the stock script's read
# path, side by side against the FUSE filesystem the tests use (needs
# /dev/fuse and fusermount3: apt-get install fuse3). Writes its table to
# target/cloudstack-bench.md (the figures in BENCHMARKS.md come from it).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/cloudstack-bench.md}"
NFSHA_BENCH_OUT="$(realpath -m "$out")" cargo test --release --test cloudstack_bench -- --nocapture --test-threads=1
echo "wrote $out"
