#!/usr/bin/env bash
# Open the Snakemake report in headless Chromium, as a reader's browser would, and save what
# the first screen shows. Look at the PNG: the landing page must open on the report's title.
#   bash tools/report_screenshot.sh [report.html] [screenshot.png] [WIDTHxHEIGHT]
# Needs Chromium (Debian: apt-get update && apt-get install chromium). Prints the report's
# size, the time Chromium took, and whether the rendered page holds the title.
set -euo pipefail
report=${1:-results/report.html}
shot=${2:-results/report_screenshot.png}
size=${3:-1280x900}
title="bayesprune: Bayesian pruning of neural networks"
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then
  echo "no Chromium found: apt-get update && apt-get install chromium" >&2
  exit 2
fi
[ -f "$report" ] || { echo "no report at $report: run snakemake --report $report first" >&2; exit 2; }
url="file://$(cd "$(dirname "$report")" && pwd)/$(basename "$report")"
flags=(--headless=new --no-sandbox --disable-gpu --hide-scrollbars --no-first-run
       --window-size="${size/x/,}" --virtual-time-budget=20000)
mkdir -p "$(dirname "$shot")"
start=$(date +%s.%N)
"$browser" "${flags[@]}" --screenshot="$shot" "$url" >/dev/null 2>&1
end=$(date +%s.%N)
dom=$("$browser" "${flags[@]}" --dump-dom "$url" 2>/dev/null)
printf 'report: %s (%.1f MB)\n' "$report" "$(echo "$(stat -c %s "$report") / 1048576" | bc -l)"
printf 'screenshot: %s (%s, Chromium took %.1f s)\n' "$shot" "$size" "$(echo "$end - $start" | bc -l)"
if grep -q "$title" <<<"$dom"; then
  echo "title rendered: yes"
else
  echo "title rendered: NO (the page did not render its description)" >&2
  exit 1
fi
