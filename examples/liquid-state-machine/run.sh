#!/bin/sh
# Runs the reservoir on the 400 trials of inputs.csv (60 s biological at 1 ms
# steps), then trains the linear readouts on the first 300 trials and tests them
# on the last 100 (check.py, ~30 s of pure Python). ARCH: spinnaker (default) or
# loihi. NERVE: the nerve binary.
set -e
cd "$(dirname "$0")"
ARCH=${1:-spinnaker}
NERVE=${NERVE:-nerve}
STEPS=$(python3 -c "import json; print(json.load(open('network.json'))['duration_ms'])")
"$NERVE" run network.json --arch "$ARCH" --steps "$STEPS" --input inputs.csv --record spikes.csv --report report.json
python3 check.py spikes.csv inputs.csv trials.json
