#!/bin/bash
# emoji e2e, before/after binaries alternating, 2 rounds; training paused by caller
for r in 1 2; do for b in before bin; do
  timeout 300 /work/big/perf-$b/Add.Perf e2e --json /tmp/e2e-$b.json --md /tmp/e2e-$b.md 2>&1 | grep -E "^(student|teacher)" | sed "s/^/$b  /" | sed 's/latency per image\|time per batch (16 \/ throughput)//' | tr -s ' '
done; done
