#!/usr/bin/env bash
# Runs on the GPU machine (no .NET SDK, no network), from a checkout whose perf/gpu/bundle/gpucheck.tar.gz was made by
# perf/gpu/prepare.sh: unpacks it, checks and times every ILGPU kernel on CUDA, prints results.md, then runs the whole
# engine on CUDA against its CPU backend (engine.md).
# Results (results.md, results.json, run.log, nvidia-smi.txt) go to $OUT if set, else perf/gpu/bundle/out.
# Extra arguments go to `Add.GpuCheck run`, e.g. --repeats 100 or --only attention.
# Exit status: that of the check (0 all pass, 1 a check failed, 2 usage, 3 no CUDA device); 3 also if the bundle is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

BUNDLE=perf/gpu/bundle
RESULTS="${OUT:-perf/gpu/bundle/out}"
mkdir -p "$RESULTS"

source perf/gpu/unpack.sh
# The cases are made here, not carried (their random inputs do not compress): the same seeds and reference loops as
# prepare.sh's, so the same files.
if [ ! -f "$BUNDLE/data/manifest.json" ]; then
  "$BUNDLE/app/Add.GpuCheck" prepare --out "$BUNDLE/data" | tail -n 3
fi

set +e
"$BUNDLE/app/Add.GpuCheck" run --data "$BUNDLE/data" --out "$RESULTS" --accelerator cuda "$@" 2>&1 | tee "$RESULTS/run.log"
status=${PIPESTATUS[0]}
set -e

if [ -f "$RESULTS/results.md" ]; then
  echo
  cat "$RESULTS/results.md"
fi

# The whole generator (the shipped student, models/add-emoji-32, which travels with the checkout) on CUDA against the CPU SIMD backend: latent error, image bytes, latency.
set +e
"$BUNDLE/app/Add.GpuCheck" engine --model models/add-emoji-32 --out "$RESULTS" --backend cuda 2>&1 | tee "$RESULTS/engine.log"
engine_status=${PIPESTATUS[0]}
set -e
[ -f "$RESULTS/engine.md" ] && { echo; cat "$RESULTS/engine.md"; }
[ "$status" -ne 0 ] && exit "$status"
exit "$engine_status"
