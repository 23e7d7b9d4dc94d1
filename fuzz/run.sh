#!/usr/bin/env bash
# Runs nerve's fuzz targets (docs/testing.md): each for SECONDS (default 600)
# on a working corpus in WORK (default /tmp/nerve-fuzz), seeded from
# fuzz/seeds/TARGET. cargo-fuzz needs nightly features: the stable toolchain
# gives them with RUSTC_BOOTSTRAP=1, set here only (never in the normal build).
#   fuzz/run.sh [SECONDS] [TARGET...]     (cargo install cargo-fuzz first)
# A finding lands in fuzz/artifacts/TARGET/; fix it and add the input as a
# regression test.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-600}
shift || true
targets=("$@")
(( ${#targets[@]} )) || targets=(image network nir spikes kernel_diff)
work=${WORK:-/tmp/nerve-fuzz}
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O "${targets[@]/#/}" >/dev/null 2>&1 || cargo fuzz build -O
for t in "${targets[@]}"; do
    mkdir -p "$work/$t"
    echo "== $t: ${secs} s"
    cargo fuzz run -O "$t" "$work/$t" "seeds/$t" -- \
        -max_total_time="$secs" -max_len=131072 -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 2>&1 \
        | grep -E "^(stat::|==|#[0-9]+ *DONE|Done|INFO: seed corpus|SUMMARY|panicked|ERROR|artifact)" || true
done
