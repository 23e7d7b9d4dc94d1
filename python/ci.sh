#!/usr/bin/env bash
# The Python package's CI: a fresh venv, the wheel built (maturin) and
# installed, the pytest suite run against it and against the `nerve` CLI.
#
# Run from anywhere: `bash python/ci.sh`. Uses CARGO_TARGET_DIR (default:
# the checkout's target/) so that after `cargo test --workspace` only the
# package itself is compiled: the wheel is built in the `dev` profile (the
# workspace's: opt-level 1, dependencies 2), which the tests' small networks
# need no more than. NERVE_CARGO_LOCK=FILE runs cargo and maturin under
# `flock FILE` (machines where builds take turns).
set -euxo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="${NERVE_PY_VENV:-$CARGO_TARGET_DIR/python-venv}"
WHEELS="$CARGO_TARGET_DIR/python-wheels"
LOCK=()
if [ -n "${NERVE_CARGO_LOCK:-}" ]; then LOCK=(flock "$NERVE_CARGO_LOCK"); fi

rm -rf "$VENV" "$WHEELS"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "maturin>=1.5,<2" numpy pytest nir

# The CLI the tests compare with (nothing to do after `cargo test --workspace`).
"${LOCK[@]}" cargo build -p nerve-cli
"${LOCK[@]}" "$VENV/bin/maturin" build --manifest-path python/Cargo.toml --profile dev --interpreter "$VENV/bin/python" --out "$WHEELS"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "$WHEELS"/nerve-*.whl

NERVE_BIN="$CARGO_TARGET_DIR/debug/nerve" "$VENV/bin/python" -m pytest python/tests -q -p no:cacheprovider
