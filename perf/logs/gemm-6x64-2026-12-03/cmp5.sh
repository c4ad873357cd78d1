#!/bin/bash
ROWS=("$@")
for round in 1 2; do
 for f in "${ROWS[@]}"; do
  for v in "0 0" "0 1" "1 0" "1 1"; do
    set -- $v
    ADD_GEMM_ORDER=$1 ADD_GEMM_PF=$2 /work/big/perf-lab/Add.Perf kernels --scale sd-turbo --filter "$f" --repeats 5 --json /tmp/l.json --md /tmp/l.md 2>&1 | grep " ours " | grep -v "^peak" | tail -1 | awk -v b="order$1 pf$2" '{for(i=1;i<=NF;i++){if($i=="ours")o=$(i+1); if($i=="torch")t=$(i+1)}; n=$0; sub(/ +[xX] \[.*/,"",n); printf "%-12s %-45s ours %8.2f torch %8.2f\n", b, n, o, t}'
  done
 done
done
