#!/bin/sh
# Runs the C. elegans connectome for 1 s biological (10000 steps of 0.1 ms) on
# each profile given (default: loihi, then spinnaker): compile, run with the
# spikes recorded, the report (plots_ARCH/, report_ARCH.html; the raster has one
# band per cell class), the same network without gap junctions (control.json),
# and check.py on both. Exits non-zero if a check fails. NERVE: the nerve binary.
cd "$(dirname "$0")"
NERVE=${NERVE:-nerve}
[ $# -gt 0 ] || set -- loihi spinnaker
status=0
for ARCH in "$@"; do
    echo "== $ARCH"
    "$NERVE" compile network.json --arch "$ARCH" -o "celegans_$ARCH.img" --quiet || exit 1
    "$NERVE" run "celegans_$ARCH.img" --steps 10000 --record "spikes_$ARCH.csv" --report "run_$ARCH.json" || exit 1
    "$NERVE" report "run_$ARCH.json" --plots "plots_$ARCH/" --html "report_$ARCH.html" -q > /dev/null || exit 1
    "$NERVE" run control.json --arch "$ARCH" --steps 10000 --record "control_$ARCH.csv" --quiet || exit 1
    echo "wrote report_$ARCH.html and plots_$ARCH/"
    python3 check.py "spikes_$ARCH.csv" --control "control_$ARCH.csv" || status=1
done
exit $status
