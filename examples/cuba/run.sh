#!/bin/sh
# Runs the CUBA benchmark (N = 4000) for 1 s biological (10000 steps of 0.1 ms),
# writes the spikes, the run report and its HTML page, then checks the exc and
# inh mean rates. ARCH: spinnaker (default) or loihi. NERVE: the nerve binary.
set -e
cd "$(dirname "$0")"
ARCH=${1:-spinnaker}
NERVE=${NERVE:-nerve}
"$NERVE" run network/cuba.json --arch "$ARCH" --steps 10000 --record spikes.csv --report run.json
"$NERVE" report run.json --html report.html --plots plots/ -q > /dev/null
echo "wrote report.html and plots/"
python3 check.py spikes.csv
