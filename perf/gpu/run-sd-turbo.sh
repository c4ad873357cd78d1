#!/usr/bin/env bash
# Runs on the GPU machine, like run.sh: SD-Turbo's architecture at 512² on CUDA against the CPU SIMD backend, on
# seeded random weights made there (`random-model` from models/configs/sd-turbo and perf/gpu/sd-turbo.layout; the
# real weights, 5.2 GB in fp32, cannot travel). Writes engine.md (latent error, image bytes, latency of both
# backends, the CUDA kernel profile of 1 step) and engine.log to $OUT (else perf/gpu/bundle/out-sd-turbo).
# Extra arguments go to `Add.GpuCheck engine` (e.g. --requests 1x1 --repeats 1).
set -euo pipefail
cd "$(dirname "$0")/../.."

BUNDLE=perf/gpu/bundle
RESULTS="${OUT:-perf/gpu/bundle/out-sd-turbo}"
MODEL="${SD_TURBO_MODEL:-/tmp/sd-turbo-random}"
mkdir -p "$RESULTS"

source perf/gpu/unpack.sh

# .complete is written after the last file, with the layout's checksum: an interrupted write or another layout is redone.
layout_sum=$(sha256sum perf/gpu/sd-turbo.layout | cut -d' ' -f1)
if [ "$(cat "$MODEL/.complete" 2>/dev/null)" != "$layout_sum" ]; then
  rm -rf "$MODEL"
  "$BUNDLE/app/Add.GpuCheck" random-model --config models/configs/sd-turbo --layout perf/gpu/sd-turbo.layout --out "$MODEL"
  echo "$layout_sum" > "$MODEL/.complete"
fi

set +e
"$BUNDLE/app/Add.GpuCheck" engine --model "$MODEL" --out "$RESULTS" --backend cuda \
  --requests 1x1,4x1,1x4 --width 512 --height 512 --repeats 3 "$@" 2>&1 | tee "$RESULTS/engine.log"
status=${PIPESTATUS[0]}
set -e
[ -f "$RESULTS/engine.md" ] && { echo; cat "$RESULTS/engine.md"; }
exit "$status"
