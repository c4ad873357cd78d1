#!/bin/bash
# usage: cmpenv.sh BIN "ENV1 ENV2" ROW...  alternating env settings (VAR=VAL or none) for one binary
B=$1; ENVS=($2); shift 2
for round in 1 2; do
 for f in "$@"; do
  for e in "${ENVS[@]}"; do
    env $([ "$e" = none ] || echo $e) /work/big/$B/Add.Perf kernels --scale sd-turbo --filter "$f" --repeats 5 --json /tmp/cmpn.json --md /tmp/cmpn.md 2>&1 | grep " ours " | grep -v "^peak" | tail -1 | awk -v b=$e '{for(i=1;i<=NF;i++){if($i=="ours")o=$(i+1); if($i=="torch")t=$(i+1)}; n=substr($0,1,45); printf "%-18s %-45s ours %8.4f torch %8.4f  %.3f\n", b, n, o, t, o/t}'
  done
 done
done
