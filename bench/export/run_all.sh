#!/usr/bin/env bash
# Runs every validation of nerve's exporters against the vendor tools, and tees the whole
# output to bench/export/last_run.txt.
#
#   bench/export/run_all.sh [--nerve PATH] [--work DIR] [--venvs DIR] [--big]
#
#   1. setup.sh (creates the nest, spynnaker, pacman and lava venvs if missing)
#   2. nets.py --check          the validation networks (+ random_500's rates on spinnaker)
#   3. validate_nest.py         PyNN export on NEST vs nerve run: rates within 10 %
#   4. validate_spynnaker.py    PyNN export mapped by sPyNNaker (virtual SpiNN-5); tables
#   5. validate_spynnaker.py --version 248
#                               the same for SpiNNaker 2 (--arch spinnaker2, virtual 248 board)
#   6. validate_tables.py       nerve's routing tables checked by PACMAN (compare_tables);
#                               --big adds the 1M-neuron network of bench/scale/make_1m.py
#                               (~2 min and ~3.2 GB RAM more; off by default; timed on its own
#                               by big_tables.sh -> big_tables_last_run.txt)
#   7. validate_lava.py         lava export run by lava-nc vs nerve run: identical spikes
#   8. validate_learning.py     learning networks: lava export (LearningDense) identical spikes
#                               and weights; PyNN STDP on NEST learns as nerve; sPyNNaker maps it
#
# nerve: --nerve, else $NERVE, else the newer of target/release/nerve and target/debug/nerve.
# Scratch files go to --work (default: a new /tmp/nerve-export-* dir), one subdir per step.
# Exit status: the number of steps that failed (0 = everything passed).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
nerve="${NERVE:-}"
work=""
venvs="$here/.venv"
big=()
while (( $# )); do
    case "$1" in
        --nerve) nerve="$2"; shift 2 ;;
        --work) work="$2"; shift 2 ;;
        --venvs) venvs="$2"; shift 2 ;;
        --big) big=(--big); shift ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
if [[ -z "$nerve" ]]; then
    rel="$repo/target/release/nerve" dbg="$repo/target/debug/nerve"
    if [[ -x "$rel" && ( ! -x "$dbg" || "$rel" -nt "$dbg" ) ]]; then nerve="$rel"; else nerve="$dbg"; fi
fi
[[ -x "$nerve" ]] || { echo "no nerve binary at $nerve (give --nerve PATH)" >&2; exit 2; }
nerve="$(cd "$(dirname "$nerve")" && pwd)/$(basename "$nerve")"
[[ -n "$work" ]] || work="$(mktemp -d /tmp/nerve-export-XXXXXX)"
mkdir -p "$work"
work="$(cd "$work" && pwd)"

exec > >(tee "$here/last_run.txt") 2>&1

py="${PYTHON:-python3}"
echo "# bench/export/run_all.sh — $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "# repo $(git -C "$repo" rev-parse --short HEAD 2>/dev/null)$(git -C "$repo" diff --quiet 2>/dev/null || echo ' (+ uncommitted changes)')"
echo "# nerve $nerve (built $(date -u -r "$nerve" '+%Y-%m-%d %H:%M:%S UTC'))"
echo "# work $work; venvs $venvs"

failed=()
step() {
    local name="$1"; shift
    echo
    echo "======================================================================"
    echo "== $name: $*"
    echo "======================================================================"
    local t0=$SECONDS
    "$@"
    local rc=$?
    echo "== $name: exit $rc, $((SECONDS - t0)) s"
    (( rc == 0 )) || failed+=("$name")
}

step setup bash "$here/setup.sh" "$venvs"
step nets "$py" "$here/nets.py" --out "$work/nets" --check --nerve "$nerve" --venvs "$venvs"
common=(--nerve "$nerve" --nets "$work/nets" --venvs "$venvs")
step validate_nest "$py" "$here/validate_nest.py" "${common[@]}" --work "$work/nest"
step validate_spynnaker "$py" "$here/validate_spynnaker.py" "${common[@]}" --work "$work/spynnaker"
step validate_spynnaker2 "$py" "$here/validate_spynnaker.py" "${common[@]}" --version 248 --work "$work/spynnaker2"
step validate_tables "$py" "$here/validate_tables.py" "${common[@]}" "${big[@]}" --work "$work/tables"
step validate_lava "$py" "$here/validate_lava.py" "${common[@]}" --work "$work/lava"
step validate_learning "$py" "$here/validate_learning.py" "${common[@]}" --work "$work/learning"

echo
if (( ${#failed[@]} )); then
    echo "== SUMMARY: FAILED: ${failed[*]} (work dir $work)"
else
    echo "== SUMMARY: all steps passed (work dir $work)"
fi
exit ${#failed[@]}
