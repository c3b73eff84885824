#!/usr/bin/env bash
# archcalc bench on a GPU: torchvision's AlexNet, VGG-16, GoogLeNet, ResNet-50, ResNet-152 and
# Inception v3 (the torchvision/* specs) at batch 256, each against torchvision's own model,
# interleaved: bf16 channels-last eager and compiled, and fp32; then one --profile of ResNet-50
# with its roofline. Results (JSON per run, the profile, the roofline SVG, a Markdown summary for
# docs/benchmarks.md) go to OUT_DIR.
#
#   benchmarks/gpu_bench.sh [OUT_DIR]          # default OUT_DIR: bench-results
#
# Needs python3 with a CUDA build of torch and a matching torchvision, and archcalc importable
# (pip install -e . --no-deps, or run from the repository root: the script puts it on PYTHONPATH).
# Settings can be narrowed for a short device lease or a CPU dry run, e.g.
#   DEVICE=cpu BATCH=2 MODELS="resnet18" COMPILE=0 ITERS=1 REPEAT=2 WARMUP=1 benchmarks/gpu_bench.sh /tmp/dry
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-bench-results}
PY=${PYTHON:-python3}
DEVICE=${DEVICE:-cuda}
BATCH=${BATCH:-256}
MODELS=${MODELS:-"alexnet vgg16 googlenet resnet50 resnet152 inception_v3"}
COMPILE=${COMPILE:-1}
WARMUP=${WARMUP:-10}
ITERS=${ITERS:-20}
REPEAT=${REPEAT:-5}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$OUT"

archcalc() { "$PY" -m archcalc "$@"; }
common=(--device "$DEVICE" --batch "$BATCH" --warmup "$WARMUP" --iters "$ITERS" --repeat "$REPEAT" --format json)

"$PY" - <<'PYTHON' | tee "$OUT/environment.txt"
import platform, torch, torchvision
print(f"date {__import__('time').strftime('%Y-%m-%d %H:%M %Z')}")
print(f"python {platform.python_version()}, torch {torch.__version__}, torchvision {torchvision.__version__}")
if torch.cuda.is_available():
    print(f"GPU {torch.cuda.get_device_name(0)}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}")
PYTHON

for model in $MODELS; do
    spec="torchvision/$model"
    echo "== $spec" >&2
    archcalc bench "$spec" "${common[@]}" --dtype bf16 --channels-last --against torchvision -o "$OUT/$model-bf16-cl.json"
    if [ "$COMPILE" = 1 ]; then
        archcalc bench "$spec" "${common[@]}" --dtype bf16 --channels-last --compile --against torchvision \
            -o "$OUT/$model-bf16-cl-compiled.json"
    fi
    archcalc bench "$spec" "${common[@]}" --dtype fp32 --against torchvision -o "$OUT/$model-fp32.json"
done

profiled=${PROFILE_MODEL:-resnet50}
archcalc bench "torchvision/$profiled" --device "$DEVICE" --batch "$BATCH" --warmup "$WARMUP" --iters "$ITERS" \
    --repeat "$REPEAT" --dtype bf16 --channels-last --profile --plot "$OUT/$profiled-roofline.svg" \
    -o "$OUT/$profiled-profile.txt"

"$PY" benchmarks/summarize_bench.py "$OUT"/*.json > "$OUT/summary.md"
cat "$OUT/summary.md"
