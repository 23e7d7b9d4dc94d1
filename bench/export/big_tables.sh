#!/usr/bin/env bash
# The 1M-neuron, 100M-synapse network (bench/scale/make_1m.py) through nerve's SpiNNaker
# exporters, timed, and its routing tables checked by PACMAN; tees the whole output to
# bench/export/big_tables_last_run.txt.
#
#   bench/export/big_tables.sh [--nerve PATH] [--work DIR] [--venvs DIR] [--keep]
#
#   1. python3 bench/scale/make_1m.py WORK/ring_1m.json
#   2. nerve compile WORK/ring_1m.json --arch spinnaker -o WORK/ring_1m.img --report ...
#   3. nerve export spinnaker-tables WORK/ring_1m.img -o tables.json --binary tables.bin,
#      and --uncompressed -o tables_uncompressed.json
#   4. nerve export pynn WORK/ring_1m.json --arch spinnaker -o pynn/ring_1m.py, three times
#      (the issue's target: < 5 s)
#   5. validate_tables.py WORK/ring_1m.img: PACMAN's from_json, <= 1,023 entries per chip,
#      compare_tables chip by chip, a corrupted table caught, PACMAN's pair compressor as
#      baseline (validate_tables.py --big does the same, compiling the network itself)
# Steps 1-4 run under /usr/bin/time -v (wall clock and max RSS are printed). Needs ~3.2 GB
# RAM (compile) and ~2 GB of disk in WORK; the image (1.56 GB) and the PyNN script's NPY
# data (405 MB) are deleted at the end unless --keep. Takes 1.5-2 min on 2 cores. The output
# ends with the load average and the other processes that used the CPU meanwhile.
# nerve: --nerve, else $NERVE, else target/release/nerve. Exit status: non-zero if a step failed.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
nerve="${NERVE:-$repo/target/release/nerve}"
work=""
venvs="$here/.venv"
keep=0
while (( $# )); do
    case "$1" in
        --nerve) nerve="$2"; shift 2 ;;
        --work) work="$2"; shift 2 ;;
        --venvs) venvs="$2"; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
[[ -x "$nerve" ]] || { echo "no nerve binary at $nerve (give --nerve PATH)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "needs GNU time at /usr/bin/time" >&2; exit 2; }
nerve="$(cd "$(dirname "$nerve")" && pwd)/$(basename "$nerve")"
[[ -n "$work" ]] || work="$(mktemp -d /tmp/nerve-big-XXXXXX)"
mkdir -p "$work/pynn"
work="$(cd "$work" && pwd)"

exec > >(tee "$here/big_tables_last_run.txt") 2>&1

py="${PYTHON:-python3}"
echo "# bench/export/big_tables.sh — $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "# repo $(git -C "$repo" rev-parse --short HEAD 2>/dev/null)$(git -C "$repo" diff --quiet 2>/dev/null || echo ' (+ uncommitted changes)')"
echo "# nerve $nerve (built $(date -u -r "$nerve" '+%Y-%m-%d %H:%M:%S UTC'))"
echo "# host: $(lscpu | grep 'Model name' | sed 's/  */ /g'); $(nproc) CPUs; $(free -g | awk '/^Mem:/ {print $2 " GiB RAM"}')"
echo "# work $work; venvs $venvs"
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (timings are wall clock: other work on the machine slows them)"

# Other work on the machine during the run: every 2 s, processes outside this script's tree using
# more than half a core (ps's %CPU: CPU time over the process's life so far) go to WORK/others.log
others_sampler() {
    local me=$1
    while sleep 2; do
        ps -eo pid=,ppid=,pcpu=,comm= | awk -v me="$me" '
            { par[$1] = $2; cpu[$1] = $3; name[$1] = $4 }
            END { for (p in par) { q = p; mine = 0
                      while (q > 1) { if (q == me) { mine = 1; break }; q = par[q] }
                      if (!mine && cpu[p] > 50) print name[p] } }'
    done >> "$work/others.log"
}
: > "$work/others.log"
others_sampler $$ &
sampler=$!
trap 'kill "$sampler" 2>/dev/null' EXIT
t_start=$SECONDS

status=0
# timed NAME CMD...: runs CMD under /usr/bin/time -v, prints its output, then wall and max RSS
timed() {
    local name="$1"; shift
    echo
    echo "== $name: $*"
    /usr/bin/time -v -o "$work/$name.time" "$@"
    local rc=$?
    local wall rss
    wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/$name.time")"
    rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/$name.time")"
    echo "== $name: exit $rc, wall $wall (m:ss), max RSS $rss kB ($(awk -v k="$rss" 'BEGIN {printf "%.2f", k / 1048576}') GiB)"
    (( rc == 0 )) || status=1
    return $rc
}

timed make_1m "$py" "$repo/bench/scale/make_1m.py" "$work/ring_1m.json"
timed compile "$nerve" compile "$work/ring_1m.json" --arch spinnaker -o "$work/ring_1m.img" \
    --report "$work/compile_report.json" || { echo "compile failed"; exit 1; }
timed tables "$nerve" export spinnaker-tables "$work/ring_1m.img" -o "$work/tables.json" \
    --binary "$work/tables.bin"
timed tables_uncompressed "$nerve" export spinnaker-tables "$work/ring_1m.img" --uncompressed \
    -o "$work/tables_uncompressed.json"
ls -l "$work/tables.json" "$work/tables.bin" "$work/tables_uncompressed.json" | awk '{print "   ", $5, $NF}'
for i in 1 2 3; do
    rm -rf "$work/pynn/ring_1m.py" "$work/pynn/ring_1m_data"
    timed "pynn_$i" "$nerve" export pynn "$work/ring_1m.json" --arch spinnaker -o "$work/pynn/ring_1m.py"
done
echo "   script $(stat -c %s "$work/pynn/ring_1m.py") bytes; $(du -sh "$work/pynn/ring_1m_data" | cut -f1) of NPY data in $(ls "$work/pynn/ring_1m_data" | wc -l) files"

echo
echo "== validate_tables: $py $here/validate_tables.py $work/ring_1m.img --nerve $nerve --venvs $venvs --work $work/tables"
t0=$SECONDS
"$py" "$here/validate_tables.py" "$work/ring_1m.img" --nerve "$nerve" --venvs "$venvs" --work "$work/tables"
rc=$?
echo "== validate_tables: exit $rc, $((SECONDS - t0)) s"
(( rc == 0 )) || status=1
for f in pacman_check pacman_pair; do
    echo "-- $work/tables/ring_1m/$f.log (PACMAN's own summary line):"
    grep -E '^(uncompressed|pair compressor|PROBLEM)' "$work/tables/ring_1m/$f.log" | sed 's/^/   /'
done
# details of pacman_tool.py check's RESULT line: where the largest tables are, the corruption
"$py" - "$work/tables/ring_1m/pacman_check.log" <<'PY'
import json, sys
r = [json.loads(x[7:]) for x in open(sys.argv[1]) if x.startswith("RESULT ")]
if r:
    r = r[-1]
    u, c, k = r["uncompressed"], r["compressed"], r["corruption"] or {}
    print(f"   largest uncompressed table {u['largest']} entries on chip {tuple(u['largest_chip'])}, largest "
          f"compressed {c['largest']} on chip {tuple(c['largest_chip'])} (limit {r['limit']}; over it: "
          f"{r['over_limit']}); duplicate key/masks {r['duplicate_key_masks']}")
    print(f"   PACMAN load {r['load_s']:.1f} s, compare_tables {r['compare_s']:.1f} s, check total {r['total_s']:.1f} s")
    if k:
        print(f"   corruption: chip {tuple(k['chip'])} entry {k['entry']} route {k['route']:#x} -> "
              f"{k['corrupted']:#x} (processor {k['processor']}): {'caught' if k['caught'] else 'NOT caught'}: "
              f"{k['message'][:160]}")
PY

if (( ! keep )); then
    rm -rf "$work/ring_1m.img" "$work/pynn/ring_1m_data"
    echo
    echo "(deleted the image and the PyNN NPY data; --keep keeps them)"
fi
kill "$sampler" 2>/dev/null
echo
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
others="$(sort "$work/others.log" | uniq -c | sort -rn | awk '{printf "%s%s in %d", sep, $2, $1; sep = ", "}')"
echo "# other processes above half a core, in 2-s samples over the $((SECONDS - t_start)) s run: ${others:-none}"
echo "== SUMMARY: $([[ $status == 0 ]] && echo 'all steps passed' || echo 'a step FAILED') (work dir $work)"
exit $status
