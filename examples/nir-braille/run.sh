#!/bin/sh
# Runs the NIR paper's two snnTorch braille models (recurrent CubaLIF, 12 taxels ->
# 38/40 -> 7 letters) on the 35 synthetic samples in inputs/ (make.py) and compares
# the output spike counts with NIR's reference simulator (reference.json).
# dt is detected (snnTorch: 1e-4 s, encoded in r = tau/dt); the reset is the one each
# model was trained with: bias_zero to zero (--reset zero: the file cannot say it),
# noBias_subtract by subtraction (snnTorch's default, detected).
# ARCH: spinnaker (default) or loihi. NERVE: the nerve binary.
set -e
cd "$(dirname "$0")"
ARCH=${1:-spinnaker}
NERVE=${NERVE:-nerve}
NIR=../../compiler/tests/data/nir
for model in braille_noDelay_bias_zero braille_noDelay_noBias_subtract; do
    mkdir -p "out/$model"
    case $model in *_zero) reset="--reset zero" ;; *) reset="" ;; esac
    # shellcheck disable=SC2086
    "$NERVE" compile "$NIR/$model.nir" --arch "$ARCH" $reset -o "out/$model.img" -q
    for f in inputs/*.csv; do
        # 256 steps of input, 2 more for lif2's depth (each projection delivers a step later)
        "$NERVE" run "out/$model.img" --steps 258 --input "$f" --record "out/$model/$(basename "$f")" -q
    done
done
python3 check.py out
