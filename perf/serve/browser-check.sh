#!/usr/bin/env bash
# Browser check of `add serve`'s page in a real headless browser (Debian's chromium, installed here if missing):
# starts `add serve` on a free loopback port, opens the page with ?type=PROMPT so that the page types the prompt key by
# key through its own hook (window.addServe.type: one input event per character, debounced like a user's keystrokes),
# checks from the DOM that the image changed as the prompt grew (several generations, several distinct images), and
# saves a screenshot (default docs/serve.png).
#   bash perf/serve/browser-check.sh [PROMPT] [SCREENSHOT]
set -euo pipefail
cd "$(dirname "$0")/../.."
prompt="${1:-smiling cat face}"
shot="${2:-docs/serve.png}"

browser=""
for b in chromium chromium-browser; do command -v "$b" >/dev/null && browser="$b" && break; done
if [ -z "$browser" ]; then
  echo "browser-check: installing chromium (apt-get)"
  if [ "$(id -u)" -ne 0 ]; then echo "browser-check: chromium is missing and installing it needs root (apt-get install chromium)" >&2; exit 2; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
  browser=chromium
fi
echo "browser-check: $("$browser" --version 2>/dev/null || echo "$browser")"

dotnet build src/Add.Cli -c Release -v q -nologo >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp); profile=$(mktemp -d)
dotnet src/Add.Cli/bin/Release/net10.0/add.dll serve --port "$port" >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$profile" "$log"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$log" >&2; echo "browser-check: server did not start" >&2; exit 1; }

encoded=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$prompt")
url="http://127.0.0.1:$port/?type=$encoded&seed=7&delay=250"
flags=(--headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars --user-data-dir="$profile"
       --window-size=820,760 --virtual-time-budget=15000)

# 1. The DOM after typing: the page records its generations and distinct images on <body>.
dom=$("$browser" "${flags[@]}" --dump-dom "$url" 2>/dev/null)
generations=$(grep -o 'data-generations="[0-9]*"' <<<"$dom" | grep -o '[0-9]\+' || echo 0)
distinct=$(grep -o 'data-distinct-images="[0-9]*"' <<<"$dom" | grep -o '[0-9]\+' || echo 0)
last=$(grep -o 'data-prompt="[^"]*"' <<<"$dom" | sed 's/data-prompt="//; s/"$//' || true)
echo "browser-check: typed \"$prompt\": $generations generations, $distinct distinct images, last prompt \"$last\""
[ "$generations" -ge 2 ] && [ "$distinct" -ge 2 ] && [ "$last" = "$prompt" ] \
  || { echo "browser-check: FAILED: expected ≥ 2 generations and distinct images ending at the full prompt" >&2; exit 1; }

# 2. The screenshot of the same run.
mkdir -p "$(dirname "$shot")"
"$browser" "${flags[@]}" --screenshot="$shot" "$url" >/dev/null 2>&1
[ -s "$shot" ] || { echo "browser-check: FAILED: no screenshot written" >&2; exit 1; }
echo "browser-check: OK, screenshot $shot"
