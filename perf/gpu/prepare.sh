#!/usr/bin/env bash
# Builds the GPU check bundle on a machine with the .NET SDK (this one), for a GPU machine that has neither the SDK
# nor network access. See perf/gpu/README.md.
#
#   1. publish perf/Add.GpuCheck self-contained for linux-x64, framework trimmed (-p:GpuBundle=true)  -> bundle/app
#   2. prepare the cases: seeded inputs + reference-loop outputs + manifest.json                      -> bundle/data
#   3. check the trimmed bundle before it travels:
#      - `ptx`: every kernel at the GPU tiles compiles to PTX (sm_90), and the PTX is identical to what
#        the untrimmed build emits (trimming must not change ILGPU's code generation);
#      - `run --accelerator cpu` on a few small cases: load, launch, compare, time, report, end to end
#      - `engine --backend cpu` on the shipped model: the generator runs from the trimmed bundle
#   4. pack the app alone into bundle/gpucheck.tar.gz (the one file to carry). The cases and the model are not packed:
#      run.sh makes the same seeded cases there with `prepare` (seconds on 16 cores), and the engine check reads the
#      shipped models/add-emoji-32, which travels with the checkout. What travels (tracked files + carried paths) must
#      stay under the device's 64 MiB: the tracked tree alone is ~73 MiB, so slim-tree.sh takes the folders the check
#      does not read out of the index for the call, and puts them back after.
#
# Nice'd throughout: this machine may be busy training. Takes about a minute.
set -euo pipefail
cd "$(dirname "$0")/../.."

BUNDLE=perf/gpu/bundle
ARCHIVE="$BUNDLE/gpucheck.tar.gz"
LIMIT_BYTES=$((64 * 1024 * 1024))
# Small cases covering every kernel family (CPU accelerator, small tiles): a few seconds in all.
CPU_CASES="unet.time_proj,unet.time_embedding.linear_1,unet.conv_in,unet.resnet.norm1_silu.8x8,unet.transformer.norm1.8x8,unet.attn1.self.8x8,unet.attn2.cross.4x4,unet.ff.geglu.8x8,unet.upsample.2x2-4x4,unet.skip_concat.8x8,unet.residual_add.8x8,sampler.cfg_euler_a.b1,sampler.student.b2,vae.mid_attention,vae.silu.32x32,text.gelu"

rm -rf "$BUNDLE"
mkdir -p "$BUNDLE/check"

echo "== publish (self-contained, trimmed) -> $BUNDLE/app"
nice -n 19 dotnet publish perf/Add.GpuCheck -c Release -r linux-x64 --self-contained -p:GpuBundle=true \
  -o "$BUNDLE/app" -nologo -v quiet

echo "== prepare -> $BUNDLE/data"
nice -n 19 "$BUNDLE/app/Add.GpuCheck" prepare --out "$BUNDLE/data" | tail -n 3

echo "== check: PTX of the trimmed bundle vs the untrimmed build"
nice -n 19 "$BUNDLE/app/Add.GpuCheck" ptx --out "$BUNDLE/check/ptx-trimmed"
nice -n 19 dotnet build perf/Add.GpuCheck -c Release -nologo -v quiet > "$BUNDLE/check/build.log" \
  || { cat "$BUNDLE/check/build.log"; exit 1; }
nice -n 19 dotnet perf/Add.GpuCheck/bin/Release/net10.0/Add.GpuCheck.dll ptx --out "$BUNDLE/check/ptx-untrimmed" > /dev/null
diff -r "$BUNDLE/check/ptx-trimmed" "$BUNDLE/check/ptx-untrimmed"
echo "PTX identical"

echo "== check: run on ILGPU's CPU accelerator, small tiles, small cases"
nice -n 19 "$BUNDLE/app/Add.GpuCheck" run --data "$BUNDLE/data" --out "$BUNDLE/check/cpu" \
  --accelerator cpu --tiles small --repeats 1 --warmup 1 --only "$CPU_CASES"

echo "== check: the engine command end to end (CPU backend against itself: the CUDA comparison needs the GPU)"
nice -n 19 "$BUNDLE/app/Add.GpuCheck" engine --model models/add-emoji-32 --out "$BUNDLE/check/engine-cpu" --backend cpu --repeats 1

echo "== pack (app only) -> $ARCHIVE"
tar -czf "$ARCHIVE" -C "$BUNDLE" app
size=$(stat -c %s "$ARCHIVE")
echo "bundle: $ARCHIVE $(awk -v b="$size" 'BEGIN { printf "%.1f MiB", b / 1048576 }')" \
  "(unpacked: app $(du -sh "$BUNDLE/app" | cut -f1); cases, made again there: $(du -sh "$BUNDLE/data" | cut -f1))"
if [ "$size" -gt "$LIMIT_BYTES" ]; then
  echo "error: $ARCHIVE is over 64 MiB" >&2
  exit 1
fi
echo "then: bash perf/gpu/slim-tree.sh slim; device run: bash perf/gpu/run.sh, carry $ARCHIVE; then: bash perf/gpu/slim-tree.sh restore"
