# Sourced by run.sh and run-sd-turbo.sh on the GPU machine (from the repository root, with BUNDLE and RESULTS set):
# unpacks the carried bundle if its app is absent, then records the GPU (nvidia-smi) in $RESULTS/nvidia-smi.txt.
if [ ! -x "$BUNDLE/app/Add.GpuCheck" ]; then
  if [ ! -f "$BUNDLE/gpucheck.tar.gz" ]; then
    echo "error: no $BUNDLE/gpucheck.tar.gz: run perf/gpu/prepare.sh where the .NET SDK is, and carry that file" >&2
    exit 3
  fi
  tar -xzf "$BUNDLE/gpucheck.tar.gz" -C "$BUNDLE"
fi
{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 || echo "nvidia-smi not available"; } \
  | tee "$RESULTS/nvidia-smi.txt"
