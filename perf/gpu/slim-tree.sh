#!/usr/bin/env bash
# What travels to the device machine is the checkout's tracked and untracked-not-ignored files plus carried paths,
# at most 64 MiB; the tracked tree is ~73 MiB, mostly model weights the GPU check never reads. For one device call:
#
#   bash perf/gpu/slim-tree.sh slim      # the folders below leave the index (files stay on disk) and are ignored
#   ... device run of perf/gpu/run.sh ...
#   bash perf/gpu/slim-tree.sh restore   # the index is HEAD's again and the ignore lines go
#
# Only the index and .git/info/exclude change; no file on disk is touched. `slim` refuses a checkout with staged
# changes (restore resets the index to HEAD, which would drop them). Commit nothing while slim: a commit would record
# the folders as deleted (then `git revert` that commit).
set -euo pipefail
cd "$(dirname "$0")/../.."

# Read by no step of run.sh or run-sd-turbo.sh (they need models/add-emoji-32, models/configs/sd-turbo and
# perf/gpu/sd-turbo.layout).
FOLDERS=(models/emoji-32-teacher models/emoji-32-features models/emoji-32-evaluator models/configs/sdxl-turbo models/configs/taesd docs tests/fixtures)
EXCLUDE=$(git rev-parse --git-path info/exclude)     # .git/info/exclude, also from a worktree
BEGIN="# perf/gpu/slim-tree.sh begin"
END="# perf/gpu/slim-tree.sh end"

case "${1:-}" in
  slim)
    if ! git diff --cached --quiet; then
      echo "error: staged changes; commit or unstage them first (restore resets the index to HEAD)" >&2
      exit 1
    fi
    if grep -qx "$BEGIN" "$EXCLUDE" 2>/dev/null; then
      echo "error: already slim (run restore first)" >&2
      exit 1
    fi
    git rm -r -q --cached "${FOLDERS[@]}"
    { echo "$BEGIN"; for f in "${FOLDERS[@]}"; do echo "/$f/"; done; echo "$END"; } >> "$EXCLUDE"
    git ls-files -z | xargs -0 stat -c %s | awk '{ s += $1 } END { printf "tracked after slim: %.1f MiB\n", s / 1048576 }'
    ;;
  restore)
    if ! grep -qx "$BEGIN" "$EXCLUDE" 2>/dev/null; then
      echo "error: not slim (no slim-tree block in $EXCLUDE); nothing to restore" >&2
      exit 1
    fi
    git reset -q
    sed -i "\|^$BEGIN\$|,\|^$END\$|d" "$EXCLUDE"
    git status --short | head -n 5
    ;;
  *)
    echo "usage: perf/gpu/slim-tree.sh slim|restore" >&2
    exit 2
    ;;
esac
