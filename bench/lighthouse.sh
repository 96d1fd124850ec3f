#!/usr/bin/env bash
# Lighthouse 11 (performance, accessibility, best practices, PWA) against a running
# Homeward: the signed-out shell (/) from a cold start, then the patient's Today
# screen signed in (a repeat visit: the service worker is installed).
#
#   make run                       # in another terminal
#   bench/lighthouse.sh [BASE_URL] # default http://127.0.0.1:${PORT:-5000}
#
# Reports go to bench/out/lighthouse/. Lighthouse comes from bench/lighthouse's lock.
set -euo pipefail
cd "$(dirname "$0")"

BASE_URL=${1:-${BASE_URL:-http://127.0.0.1:${PORT:-5000}}}
OUT=out/lighthouse
DEBUG_PORT=${DEBUG_PORT:-9333}
PYTHON=${PYTHON:-../.venv/bin/python}
export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}
CHROME_FLAGS="--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync --no-first-run"
CATEGORIES=performance,accessibility,best-practices,pwa

if [ ! -x lighthouse/node_modules/.bin/lighthouse ]; then
    (cd lighthouse && npm ci --no-audit --no-fund --loglevel=error)
fi
curl -fsS -o /dev/null "$BASE_URL/" || { echo "No Homeward at $BASE_URL (start it with make run)" >&2; exit 1; }
mkdir -p "$OUT"
LIGHTHOUSE=lighthouse/node_modules/.bin/lighthouse

echo "== / (signed out, cold)"
"$LIGHTHOUSE" "$BASE_URL/" --quiet --only-categories="$CATEGORIES" \
    --chrome-flags="$CHROME_FLAGS" --output=json --output=html \
    --output-path="$OUT/signed-out"

echo "== /#/today (signed in as the demo patient)"
PROFILE=$(mktemp -d)
CHROMIUM_PID=$("$PYTHON" lighthouse/signed_in_chromium.py "$BASE_URL" "$DEBUG_PORT" "$PROFILE")
stop_chromium() {
    kill "$CHROMIUM_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$CHROMIUM_PID" 2>/dev/null || break; sleep 0.1; done
    rm -rf "$PROFILE"
}
trap stop_chromium EXIT
"$LIGHTHOUSE" "$BASE_URL/#/today" --quiet --only-categories="$CATEGORIES" \
    --port="$DEBUG_PORT" --disable-storage-reset --output=json --output=html \
    --output-path="$OUT/today"

node -e '
const fs = require("fs");
for (const name of ["signed-out", "today"]) {
  const report = JSON.parse(fs.readFileSync(`'"$OUT"'/${name}.report.json`, "utf8"));
  const scores = Object.values(report.categories)
    .map((c) => `${c.title}: ${c.score === null ? "n/a" : Math.round(c.score * 100)}`)
    .join(", ");
  const installable = report.audits["installable-manifest"];
  console.log(`${name.padEnd(10)} ${scores}; installable: ${installable.score === 1 ? "yes" : "NO"}`);
  for (const category of Object.values(report.categories)) {
    for (const ref of category.auditRefs) {
      const audit = report.audits[ref.id];
      if (ref.weight > 0 && audit.score !== null && audit.score < 0.9 && audit.scoreDisplayMode !== "informative")
        console.log(`           - ${category.title}: ${audit.title} (${audit.displayValue || audit.score})`);
    }
  }
}'
