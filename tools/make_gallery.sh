#!/usr/bin/env bash
# Regenerate the README's gallery (docs/gallery/*.svg) with archcalc itself.
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/gallery
archcalc render lenet5 -o "$out/lenet5.svg" --show params,macs --edge-labels
archcalc render alexnet -o "$out/alexnet.svg" --show params,macs,rf --color-by params --layout hwc
archcalc render googlenet --only inception_3a/ -o "$out/inception_3a.svg" --show params,macs,rf --color-by macs
archcalc render resnet50 --only conv3_ -o "$out/resnet50_conv3.svg" --show params,macs --color-by macs
archcalc render segmentation/unet --depth 0 -o "$out/unet.svg" --show params,macs --color-by macs
