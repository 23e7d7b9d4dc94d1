#!/usr/bin/env bash
# Create the Python venvs for the side-by-side peers in /work/shared/peers/.
#
#   bench/peers-setup.sh [DIR]      # DIR defaults to bench/.venv
#
# Makes three separate venvs (the peers need different, partly clashing pins):
#   DIR/perf    cuba_peers.py                 Brian2 + NEST 3.10 (+ g++ for
#                                             Brian2 cpp_standalone and cpp_ref)
#   DIR/pacman  pacman_peer.py, pacman_peer_traffic.py   PACMAN 1!7.4.1
#   DIR/sanafe  sanafe_peer.py                SANA-FE 2.2.9
# Idempotent: a venv whose python already exists is not recreated; packages
# are only installed when the venv's import check fails.
# Tested with CPython 3.11.7, pip 23.2.1, g++ 12.2 (all wheels, nothing built).
# Set PYTHON to choose the interpreter (default python3).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="${1:-$here/.venv}"
python="${PYTHON:-python3}"
mkdir -p "$dir"

# name | pip specs | import check
setup_venv() {
    local name="$1" check="$2"; shift 2
    local venv="$dir/$name"
    if [[ ! -x "$venv/bin/python" ]]; then
        echo "== $name: creating $venv"
        "$python" -m venv "$venv"
    fi
    if "$venv/bin/python" -c "$check" >/dev/null 2>&1; then
        echo "== $name: ok, skipping ($venv)"
        return
    fi
    echo "== $name: pip install $*"
    "$venv/bin/pip" install --quiet "$@"
    "$venv/bin/python" -c "$check" >/dev/null
    echo "== $name: installed"
}

# cuba.md says: pip install brian2 nest-simulator "numpy<2.4"
setup_venv perf "import brian2, nest, numpy, Cython" \
    "brian2==2.9.0" "nest-simulator==3.10.0" "numpy==2.3.5" "cython==3.3.1"

setup_venv pacman "import pacman, spinn_machine, spinn_utilities, numpy" \
    "spinnaker-pacman==1!7.4.1" "spinnmachine==1!7.4.1" \
    "spinnutilities==1!7.4.1" "numpy==2.4.6"

setup_venv sanafe "import sanafe, numpy" \
    "sanafe==2.2.9" "numpy==2.4.6"

command -v g++ >/dev/null || echo "warning: g++ not found; Brian2 cpp_standalone and cpp_ref need it" >&2

cat <<EOF
Peers (from the repo root):
  $dir/perf/bin/python   /work/shared/peers/cuba_peers.py --N 4000 --T 1.0 --sims brian_standalone,cpp_ref
  $dir/pacman/bin/python /work/shared/peers/pacman_peer.py /work/shared/peers/pacman-graphs/small.json --compressor pair
  $dir/sanafe/bin/python /work/shared/peers/sanafe_peer.py --n 4000 --t 1000
EOF
