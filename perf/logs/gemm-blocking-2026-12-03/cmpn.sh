#!/bin/bash
# usage: [DIGITS=4] cmpn.sh "BIN1 BIN2 ..." ROW...   alternating rounds over the binaries (dirs under /work/big), ours/torch ms per row
BINS=($1); shift
s0=$(awk '/^cpu /{print $9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
for round in 1 2; do
 for f in "$@"; do
  for b in "${BINS[@]}"; do
    /work/big/$b/Add.Perf kernels --scale sd-turbo --filter "$f" --repeats 5 --json /tmp/cmpn.json --md /tmp/cmpn.md 2>&1 | grep " ours " | grep -v "^peak" | tail -1 | awk -v b=$b -v d=${DIGITS:-2} '{for(i=1;i<=NF;i++){if($i=="ours")o=$(i+1); if($i=="torch")t=$(i+1)}; n=substr($0,1,45); f="%-16s %-45s ours %8." d "f torch %8." d "f\n"; printf f, b, n, o, t}'
  done
 done
done
s1=$(awk '/^cpu /{print $9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
echo "steal share: $(echo $s0 $s1 | awk '{printf "%.1f%%", 100*($3-$1)/($4-$2)}')"
