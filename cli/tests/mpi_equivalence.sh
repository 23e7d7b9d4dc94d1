#!/usr/bin/env bash
# Runs over several MPI ranks equal the one-process run (issue 21, run by
# .ci/run): builds nerve with the `mpi` feature, then for each network runs
# it on one process and under `mpirun -np K` (K = 2, 3) and compares the
# spike recording and the probes byte for byte, and the run summaries
# (counters per core, chip and link, step times, energy) field by field,
# all but the host's wall-clock times and the ranks table (on a network
# whose ranks exchange every 8 steps, too). Also checks that
# what ranks cannot do yet is refused. Takes ~1 min after the build.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -q -p nerve-cli --features mpi
N="$PWD/target/debug/nerve"
MPIRUN=(mpirun --oversubscribe)
if [ "$(id -u)" = 0 ]; then MPIRUN+=(--allow-run-as-root); fi
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

same_summary() {
  python3 - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for s in (a, b):
    s.pop("host"); s.pop("ranks", None)
if a != b:
    def walk(x, y, path=""):
        if isinstance(x, dict):
            for k in sorted(set(x) | set(y)):
                walk(x.get(k), y.get(k), f"{path}/{k}")
        elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
            for i, (p, q) in enumerate(zip(x, y)):
                walk(p, q, f"{path}/{i}")
        elif x != y:
            print(f"  {path}: {x!r} != {y!r}")
    walk(a, b)
    sys.exit(f"summaries differ: {sys.argv[1]} {sys.argv[2]}")
b = json.load(open(sys.argv[2]))
assert len(b["ranks"]) >= 2, "the ranked run reports its ranks"
PY
}

check() {
  local name=$1 net=$2 arch=$3 steps=$4 probe=$5; shift 5
  "$N" compile "$net" --arch "$arch" -o "$W/$name.img" -q "$@"
  "$N" run "$W/$name.img" --steps "$steps" --record "$W/$name.1.csv" --probe "$probe" --probe-out "$W/$name.1.p.csv" --report "$W/$name.1.json" -q
  for k in 2 3; do
    "${MPIRUN[@]}" -np $k "$N" run "$W/$name.img" --steps "$steps" --record "$W/$name.$k.csv" --probe "$probe" --probe-out "$W/$name.$k.p.csv" --report "$W/$name.$k.json" -q
    cmp "$W/$name.1.csv" "$W/$name.$k.csv"
    cmp "$W/$name.1.p.csv" "$W/$name.$k.p.csv"
    same_summary "$W/$name.1.json" "$W/$name.$k.json"
    # Streamed through rank 0 (a budget far below the recording): the same files.
    "${MPIRUN[@]}" -np $k "$N" run "$W/$name.img" --steps "$steps" --record "$W/$name.s.csv" --probe "$probe" --probe-out "$W/$name.s.p.csv" --max-memory 64K -q
    cmp "$W/$name.1.csv" "$W/$name.s.csv"
    cmp "$W/$name.1.p.csv" "$W/$name.s.p.csv"
    echo "ok: $name, $k ranks = 1 process ($(wc -l < "$W/$name.1.csv") spike lines)"
  done
}

check small-spinnaker examples/small.json spinnaker 2000 exc:v --neurons-per-core 64
check small-loihi examples/small.json loihi 2000 exc:v --neurons-per-core 64
check celegans examples/celegans/network.json spinnaker 1000 Interneuron:v --neurons-per-core 16
# One spinnaker2 chip's cores past the 64th receiving (a route's core mask is 256 bits).
check small-spinnaker2-wide examples/small.json spinnaker2 1000 exc:v --neurons-per-core 4
# Delays of 8 steps and more between ranks: spikes exchanged every 8 steps.
check long-delays cli/tests/data/long_delays.json spinnaker 2000 exc:v --neurons-per-core 16
python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))["ranks"]; assert {x["exchange_every"] for x in r} == {8}, r' "$W/long-delays.2.json"

# A network compiled in memory by every rank (held whole, run in part).
"${MPIRUN[@]}" -np 2 "$N" run examples/small.json --arch spinnaker --neurons-per-core 64 --steps 2000 --record "$W/net.csv" --probe exc:v --probe-out "$W/net.p.csv" --report "$W/net.json" -q
cmp "$W/small-spinnaker.1.csv" "$W/net.csv"
cmp "$W/small-spinnaker.1.p.csv" "$W/net.p.csv"
same_summary "$W/small-spinnaker.1.json" "$W/net.json"
echo "ok: a network compiled by 2 ranks = its image on 1 process"

# The decision latency (inputs not recorded) over ranks, in memory and streamed: as one process.
"$N" run "$W/small-spinnaker.img" --steps 2000 --decision inh --report "$W/d.1.json" -q
for extra in "" "--max-memory 1K"; do
  "${MPIRUN[@]}" -np 2 "$N" run "$W/small-spinnaker.img" --steps 2000 --decision inh --report "$W/d.2.json" -q $extra
  python3 -c 'import json, sys; a, b = (json.load(open(p))["timing"]["decision"] for p in sys.argv[1:3]); assert a == b and a["latency_ns"], (a, b)' "$W/d.1.json" "$W/d.2.json"
done
echo "ok: the decision latency over 2 ranks = 1 process"

# Ranks with different budgets (their own --threads and --max-memory, as on
# hosts of different sizes) stream in one chunk length, and write what one
# process writes: each cut its own, read another's chunk as spikes, panicked,
# and the job hung.
"$N" run "$W/small-spinnaker.img" --steps 2000 --record "$W/b.1.csv" --probe exc:v --probe-out "$W/b.1.p.csv" -q
timeout 120 "${MPIRUN[@]}" -np 1 "$N" run "$W/small-spinnaker.img" --steps 2000 --threads 1 --record "$W/b.2.csv" --probe exc:v --probe-out "$W/b.2.p.csv" --max-memory 64K -q : \
  -np 1 "$N" run "$W/small-spinnaker.img" --steps 2000 --threads 2 --record "$W/b.2.csv" --probe exc:v --probe-out "$W/b.2.p.csv" --max-memory 1G -q
cmp "$W/b.1.csv" "$W/b.2.csv"
cmp "$W/b.1.p.csv" "$W/b.2.p.csv"
echo "ok: ranks of different budgets stream what 1 process writes"

# What stays on one process is refused, naming the flag.
if "${MPIRUN[@]}" -np 2 "$N" run "$W/small-spinnaker.img" --steps 10 --save-weights "$W/w.csv" -q 2> "$W/err"; then
  echo "--save-weights over 2 ranks should fail"; exit 1
fi
grep -q -- "--save-weights is not available for runs over several ranks" "$W/err"
# More ranks than cores: refused, naming both counts (each rank runs a core).
"$N" compile examples/small.json --arch spinnaker --neurons-per-core 256 -o "$W/few.img" -q
cores=$("$N" inspect "$W/few.img" | head -1 | sed -n 's/.*(\([0-9]*\) of [0-9]* cores.*/\1/p')
if "${MPIRUN[@]}" -np $((cores + 1)) "$N" run "$W/few.img" --steps 10 -q 2> "$W/err"; then
  echo "$((cores + 1)) ranks on $cores cores should fail"; exit 1
fi
grep -q "its $cores core(s) cannot be shared among $((cores + 1)) ranks" "$W/err"
# An error one rank meets alone ends every rank, said, instead of leaving the
# others waiting in their next exchange (both hung until killed): rank 0
# alone writes --save-image; an input spike clashing with a spike array is
# checked by the rank that runs its core.
if timeout 120 "${MPIRUN[@]}" -np 2 "$N" run examples/small.json --arch spinnaker --steps 10 --save-image /dev/full -q 2> "$W/err"; then
  echo "--save-image /dev/full over 2 ranks should fail"; exit 1
fi
[ "$(grep -c "^error: cannot write /dev/full" "$W/err")" -ge 1 ] || { cat "$W/err"; echo "no error said (or timed out)"; exit 1; }
"$N" compile cli/tests/data/loihi_small.json --arch loihi --neurons-per-core 4 -o "$W/arr.img" -q
printf 'population,neuron,time\nsrc,0,1\n' > "$W/clash.csv"
for np in 2 3; do
  if timeout 120 "${MPIRUN[@]}" -np $np "$N" run "$W/arr.img" --steps 20 --input "$W/clash.csv" -q 2> "$W/err"; then
    echo "a clashing input over $np ranks should fail"; exit 1
  fi
  grep -q "where the population's spike array already spikes the neuron" "$W/err" || { cat "$W/err"; echo "no error said over $np ranks (or timed out)"; exit 1; }
done
# Two images of one layout (the same cores, rows and synapses), other
# initial potentials: refused (each rank had run its own cores' values, to
# a wrong result with exit 0). Every rank finds it; rank 0 says it, and its
# MPI_Abort ends the others (each had printed it too).
sed 's/"seed": 1}/"seed": 11}/' examples/small.json > "$W/reseeded.json"
"$N" compile "$W/reseeded.json" --arch spinnaker --neurons-per-core 64 -o "$W/reseeded.img" -q
if timeout 120 "${MPIRUN[@]}" -np 1 "$N" run "$W/small-spinnaker.img" --steps 10 -q : -np 1 "$N" run "$W/reseeded.img" --steps 10 -q 2> "$W/err"; then
  echo "two images over 2 ranks should fail"; exit 1
fi
[ "$(grep -c "^error: rank 0 and rank 1 were started with another image or other run options" "$W/err")" -eq 1 ] || { cat "$W/err"; echo "not refused, or said more than once (or timed out)"; exit 1; }
echo "ok: refusals"
