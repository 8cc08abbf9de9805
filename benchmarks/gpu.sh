#!/usr/bin/env bash
# One prepared run for the lent GPU machine (see ../README.md): install relunet without
# downloads, run the gpu-marked tests, then the GPU benchmarks.  Everything lands in $OUT.
#   device run:  bash benchmarks/gpu.sh
set -uo pipefail
OUT=${OUT:-$(mktemp -d)}
export PYTHONUNBUFFERED=1
python3 -m pip install -q --no-deps --no-build-isolation --no-index -e . >"$OUT/install.log" 2>&1 \
  || { cat "$OUT/install.log"; exit 1; }
python3 -c "import torch; print(torch.__version__, torch.cuda.get_device_name())" | tee "$OUT/device.txt"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee -a "$OUT/device.txt"
python3 -m pytest -m gpu -q -p no:cacheprovider 2>&1 | tee "$OUT/gpu-tests.log"
python3 benchmarks/bench_trainer.py --device cuda --out "$OUT/trainer-cuda.md" 2>&1 | tee "$OUT/bench.log"
python3 benchmarks/bench_catapult.py --device cuda --out "$OUT/catapult-cuda.md" 2>&1 | tee "$OUT/bench-catapult.log"
