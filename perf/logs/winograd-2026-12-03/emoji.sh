#!/bin/bash
# emoji-scale and TAESD rows touched by the Winograd path (Ci >= 64, 3x3 s1 p1, plane >= 32^2), HEAD~ vs HEAD alternating
for r in 1 2 3; do for f in "vae decoder conv 64->32 32x32" "taesd decoder conv+relu 64->64 64x64" "taesd decoder conv+relu 64->64 256x256" "taesd decoder conv+residual+relu 256x256"; do for b in before bin; do
  /work/big/perf-$b/Add.Perf kernels --filter "$f" --repeats 5 --json /tmp/em-$b.json --md /tmp/em-$b.md 2>&1 | grep " ours " | tail -1 | awk -v b=$b '{for(i=1;i<=NF;i++){if($i=="ours")o=$(i+1); if($i=="torch")t=$(i+1)}; n=substr($0,1,45); printf "%-7s %-45s ours %8.3f torch %8.3f\n", b, n, o, t}'
done; done; done
