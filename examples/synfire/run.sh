#!/bin/sh
# Runs the synfire chain for 100 ms (1000 steps of 0.1 ms) and shows the wave:
# per group the mean spike time and its spread, the mean inter-group latency,
# and checks them. ARCH: spinnaker (default) or loihi. NERVE: the nerve binary.
set -e
cd "$(dirname "$0")"
ARCH=${1:-spinnaker}
NERVE=${NERVE:-nerve}
"$NERVE" run network.json --arch "$ARCH" --steps 1000 --record spikes.csv --report report.json
python3 check.py spikes.csv
