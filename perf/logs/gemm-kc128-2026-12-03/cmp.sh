#!/bin/bash
# alternating before/after rounds; prints ours ms only, plus steal share
s0=$(awk '/^cpu /{print $9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
for round in 1 2 3; do
 for f in "$@"; do
  for b in before bin; do
    /work/big/perf-$b/Add.Perf kernels --scale sd-turbo --filter "$f" --repeats 5 --json /tmp/cmp-$b.json --md /tmp/cmp-$b.md 2>&1 | grep " ours " | grep -v "^peak" | tail -1 | awk -v b=$b '{for(i=1;i<=NF;i++){if($i=="ours")o=$(i+1); if($i=="torch")t=$(i+1)}; n=$0; sub(/ +[xX] \[.*/,"",n); printf "%-7s %-45s ours %8.2f torch %8.2f\n", b, n, o, t}'
  done
 done
done
s1=$(awk '/^cpu /{print $9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
echo "steal share: $(echo $s0 $s1 | awk '{printf "%.1f%%", 100*($3-$1)/($4-$2)}')"
