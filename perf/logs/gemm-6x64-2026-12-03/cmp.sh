#!/bin/bash
# before/after GEMM tile comparison on SD-Turbo rows; training paused by caller
for f in ${ROWS:-"ff.out+residual 1280->320" "64x64 C320 ff.geglu.proj" "64x64 C320 attn.to_q" "16x16 C1280 ff.out" "text 77x1024 fc1" "conv 640->640 32x32" "attn1 self 64x64"}; do
  for b in before bin; do
    echo "== $b: $f"
    /work/big/perf-$b/Add.Perf kernels --scale sd-turbo --filter "$f" --repeats 3 --json /tmp/cmp-$b.json 2>&1 | grep -E "^\S.*(ms|GFLOP)" | tail -1
  done
done
