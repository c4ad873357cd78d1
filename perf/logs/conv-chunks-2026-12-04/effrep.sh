#!/bin/bash
# usage: effrep.sh BIN ROUNDS ROW...   each row alone, ROUNDS times; prints GFLOP/s of the row and of the peak row measured in the same invocation
B=$1; R=$2; shift 2
for round in $(seq 1 $R); do
 for f in "$@"; do
  /work/big/$B/Add.Perf kernels --scale sd-turbo --filter "$f" --repeats 5 --json /tmp/eff.json --md /tmp/eff.md > /dev/null 2>&1
  python3 -c "
import json; d=json.load(open('/tmp/eff.json')); pk=d['peak_gflops']
for r in d['rows'][1:]:
    if r.get('ours_gflops'): print(f\"{r['name'][:50]:50s} {r['ours_gflops']:7.1f} peak {pk:6.1f} share {100*r['ours_gflops']/pk:5.1f}\")
"
 done
done
