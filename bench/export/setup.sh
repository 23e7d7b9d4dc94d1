#!/usr/bin/env bash
# Create the Python venvs of the vendor tools that validate nerve's exporters.
#
#   bench/export/setup.sh [--check] [DIR]     # DIR defaults to bench/export/.venv
#
# Makes four separate venvs (their pins clash; lava-nc needs Python 3.10):
#   DIR/nest       PyNN 0.13.0 + NEST 3.10.0            (CPython 3.11)
#   DIR/spynnaker  sPyNNaker 1!7.4.1 + PyNN 0.12.4      (CPython 3.11)
#   DIR/pacman     spinnaker-pacman/spinnmachine/spinnutilities 1!7.4.1 (3.11)
#   DIR/lava       lava-nc 0.10.0, numpy<2              (CPython 3.10.13, pyenv)
# Idempotent: a venv whose python already exists is not recreated; packages
# are only installed when the venv's import check fails.
# --check also runs the smoke scripts in bench/export/checks/ (a few seconds
# each; the spynnaker one maps a PyNN script on a virtual SpiNN-5 board in
# DIR/spynnaker-check, with its cfg there; it never touches ~/.spynnaker.cfg).
# Pins: PyNN 0.12.4 does NOT work with NEST 3.10 (calls nest.ll_api.sr, gone
# with SLI), hence 0.13.0 for nest; sPyNNaker 1!7.4.1 allows pynn>=0.11,
# !=0.12.0, we keep it on 0.12.4. lava-nc 0.10.0 requires Python <3.11.
# Set PYTHON (default python3) and LAVA_PYTHON (default
# ~/.pyenv/versions/3.10.13/bin/python, else any pyenv 3.10.x) to choose
# interpreters. See NOTES.md beside this file for versions, times and formats.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
check=0
if [[ "${1:-}" == "--check" ]]; then check=1; shift; fi
dir="${1:-$here/.venv}"
python="${PYTHON:-python3}"
lava_python="${LAVA_PYTHON:-}"
if [[ -z "$lava_python" ]]; then
    lava_python="$HOME/.pyenv/versions/3.10.13/bin/python"
    if [[ ! -x "$lava_python" ]]; then
        root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
        lava_python="$(ls -d "$root"/versions/3.10.*/bin/python 2>/dev/null | tail -1 || true)"
    fi
fi
mkdir -p "$dir"

# name | interpreter | import check | pip specs...
setup_venv() {
    local name="$1" interp="$2" check="$3"; shift 3
    local venv="$dir/$name"
    if [[ ! -x "$venv/bin/python" ]]; then
        if [[ -z "$interp" || ! -x "$interp" ]] && ! command -v "$interp" >/dev/null 2>&1; then
            echo "== $name: interpreter '$interp' not found, skipping" >&2
            return 1
        fi
        echo "== $name: creating $venv ($("$interp" --version 2>&1))"
        "$interp" -m venv "$venv"
    fi
    if "$venv/bin/python" -c "$check" >/dev/null 2>&1; then
        echo "== $name: ok, skipping ($venv)"
        return
    fi
    echo "== $name: pip install $*"
    local t0=$SECONDS
    "$venv/bin/pip" install --quiet "$@"
    "$venv/bin/python" -c "$check" >/dev/null
    echo "== $name: installed in $((SECONDS - t0)) s"
}

status=0

setup_venv nest "$python" "import pyNN.nest, nest, numpy" \
    "pynn==0.13.0" "nest-simulator==3.10.0" "numpy==2.4.6" || status=1

setup_venv spynnaker "$python" "import pyNN.spiNNaker, spynnaker, numpy" \
    "spynnaker==1!7.4.1" "pynn==0.12.4" "numpy==2.4.6" "scipy==1.17.1" || status=1

setup_venv pacman "$python" "import pacman, spinn_machine, spinn_utilities, numpy" \
    "spinnaker-pacman==1!7.4.1" "spinnmachine==1!7.4.1" \
    "spinnutilities==1!7.4.1" "numpy==2.4.6" || status=1

setup_venv lava "$lava_python" "import lava.magma, numpy, scipy" \
    "lava-nc==0.10.0" "numpy==1.26.4" "scipy==1.15.3" || status=1

if (( check )); then
    for name in nest spynnaker pacman lava; do
        [[ -x "$dir/$name/bin/python" ]] || continue
        echo "== $name: smoke check"
        t0=$SECONDS
        args=()
        [[ $name == spynnaker ]] && args=(--workdir "$dir/spynnaker-check")
        if "$dir/$name/bin/python" "$here/checks/${name}_check.py" "${args[@]}"; then
            echo "== $name: check ok ($((SECONDS - t0)) s)"
        else
            echo "== $name: CHECK FAILED" >&2; status=1
        fi
    done
fi

cat <<EOF
Venvs under $dir:
  nest/bin/python       PyNN 0.13.0 + NEST 3.10.0   (import pyNN.nest as sim)
  spynnaker/bin/python  sPyNNaker 1!7.4.1           (import pyNN.spiNNaker as sim; run in a dir holding spynnaker.cfg)
  pacman/bin/python     PACMAN 1!7.4.1              (routing-table JSON, compare_tables)
  lava/bin/python       lava-nc 0.10.0              (Loihi2SimCfg(select_tag="fixed_pt"))
Smoke checks: $0 --check [DIR]
EOF
exit $status
