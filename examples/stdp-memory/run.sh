#!/bin/sh
# Learns three cue -> content associations, recalls them, forgets one, learns
# it anew; check.py scores every recall. ARCH: spinnaker (default) or loihi.
# NERVE: the nerve binary.
set -e
cd "$(dirname "$0")"
ARCH=${1:-spinnaker}
NERVE=${NERVE:-nerve}
STEPS=$(python3 -c "import json; print(json.load(open('schedule.json'))['duration_ms'])")
"$NERVE" run network.json --arch "$ARCH" --steps "$STEPS" --record spikes.csv --save-weights weights.csv --report report.json
python3 check.py spikes.csv schedule.json
