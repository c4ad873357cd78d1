# Sourced by run.sh and run-sd-turbo.sh on the GPU machine (from the repository root, with BUNDLE and RESULTS set):
# unpacks the carried bundle unless the app there came from this same archive (a warm machine keeps ignored paths
# between calls, so an app from an earlier archive must not be reused; the cases made from it go with it), then
# records the GPU (nvidia-smi) in $RESULTS/nvidia-smi.txt.
if [ ! -f "$BUNDLE/gpucheck.tar.gz" ]; then
  if [ ! -x "$BUNDLE/app/Add.GpuCheck" ]; then
    echo "error: no $BUNDLE/gpucheck.tar.gz: run perf/gpu/prepare.sh where the .NET SDK is, and carry that file" >&2
    exit 3
  fi
else
  archive_sum=$(sha256sum "$BUNDLE/gpucheck.tar.gz" | cut -d' ' -f1)
  if [ ! -x "$BUNDLE/app/Add.GpuCheck" ] || [ "$(cat "$BUNDLE/app/.archive-sha256" 2>/dev/null)" != "$archive_sum" ]; then
    rm -rf "$BUNDLE/app" "$BUNDLE/data"
    tar -xzf "$BUNDLE/gpucheck.tar.gz" -C "$BUNDLE"
    echo "$archive_sum" > "$BUNDLE/app/.archive-sha256"
  fi
fi
{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 || echo "nvidia-smi not available"; } \
  | tee "$RESULTS/nvidia-smi.txt"
