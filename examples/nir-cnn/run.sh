#!/bin/sh
# Classifies 100 recorded N-MNIST test digits with the NIR paper's Sinabs CNN:
# compiles cnn_sinabs.nir (dt and reset detected: Sinabs, dt 1 s, subtract), runs
# each sample's spikes on the emulator, scores the output spike counts.
# ARCH: spinnaker (default) or loihi. NERVE: the nerve binary.
set -e
cd "$(dirname "$0")"
ARCH=${1:-spinnaker}
NERVE=${NERVE:-nerve}
python3 make_inputs.py --out inputs
mkdir -p out
"$NERVE" compile ../../compiler/tests/data/nir/cnn_sinabs.nir --arch "$ARCH" -o out/cnn.img -q
for f in inputs/*.csv; do
    # 310 steps of input at most, 5 more for the output layer's depth
    "$NERVE" run out/cnn.img --steps 320 --input "$f" --record "out/$(basename "$f")" -q
done
python3 check.py out
