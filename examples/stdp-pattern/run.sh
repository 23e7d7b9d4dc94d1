#!/bin/sh
# Learns the pattern (100 presentations with a teacher), freezes the learned
# weights into learnt.json, then tests detection on 100 pattern and 100 random
# presentations. ARCH: spinnaker (default) or loihi. NERVE: the nerve binary.
set -e
cd "$(dirname "$0")"
ARCH=${1:-spinnaker}
NERVE=${NERVE:-nerve}
TRAIN=$(python3 -c "import json; print(json.load(open('schedule.json'))['train_ms'])")
TEST=$(python3 -c "import json; print(json.load(open('schedule.json'))['test_ms'])")
"$NERVE" run network.json --arch "$ARCH" --steps "$TRAIN" --save-weights weights.csv --save-network learnt.json
"$NERVE" run learnt.json --arch "$ARCH" --steps "$TEST" --record spikes.csv --report report.json
python3 check.py spikes.csv schedule.json
