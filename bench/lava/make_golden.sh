#!/usr/bin/env bash
# Regenerate the lava-nc bit-accurate Loihi golden files used by the emulator
# tests (emulator/tests/data/lava/). See bench/lava/README.md.
#
#   bench/lava/make_golden.sh            # venv in $LAVA_VENV (default /tmp/lava-venv)
#   BENCH=1 bench/lava/make_golden.sh    # also run the lava CPU timing (--bench)
#
# Env: LAVA_VENV (venv dir), LAVA_PYTHON (interpreter for the venv; default
# pyenv's 3.10.x, lava-nc 0.10.0 needs Python <3.11), LAVA_REF (path of
# lava_reference.py; default shared/peers/ beside the repo), OUT (output dir).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${LAVA_VENV:-/tmp/lava-venv}"
ref="${LAVA_REF:-$root/../shared/peers/lava_reference.py}"
out="${OUT:-$root/emulator/tests/data/lava}"

# 1. venv with lava-nc (idempotent)
if [[ ! -x "$venv/bin/python" ]]; then
    if [[ -n "${LAVA_PYTHON:-}" ]]; then
        py="$LAVA_PYTHON"
    else
        py="$(ls -d "$(pyenv root)"/versions/3.10.*/bin/python3 | sort -V | tail -n1)"
    fi
    "$py" -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import lava.proc.lif.process' >/dev/null 2>&1; then
    # Unpinned `pip install lava-nc` resolved to exactly this on 3.10.13.
    "$venv/bin/pip" install lava-nc==0.10.0
fi
"$venv/bin/python" --version
"$venv/bin/pip" show lava-nc | sed -n '1,2p'

# 2. golden files (the script exits 1 unless its NumPy re-implementation
#    matches lava bit for bit)
mkdir -p "$out"
"$venv/bin/python" "$ref" --n-a 20 --n-b 40 --steps 60 --seed 1234 \
    --out "$out/golden_small.json"
"$venv/bin/python" "$ref" --n-a 100 --n-b 300 --steps 100 --seed 1234 \
    --out "$out/golden_default.json"
size=$(stat -c %s "$out/golden_default.json")
if (( size > 3000000 )); then
    echo "golden_default.json is $size bytes; regenerating with --no-trace"
    "$venv/bin/python" "$ref" --n-a 100 --n-b 300 --steps 100 --seed 1234 \
        --no-trace --out "$out/golden_default.json"
fi
ls -l "$out"

# optional: lava CPU timing (peer number, not a test)
if [[ "${BENCH:-0}" == 1 ]]; then
    "$venv/bin/python" "$ref" --bench --bench-n 1000 --bench-steps 1000
fi
