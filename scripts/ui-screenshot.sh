#!/usr/bin/env bash
# Takes screenshots of the embedded Temporal Web UI in headless Chromium
# (Debian's chromium package): the order list filtered by status, and one
# order's input, decoded by the browser through the intake's codec endpoint
# (payloads are AES-GCM ciphertext in history). Writes docs/ui-orders.png and docs/ui-order.png,
# which the README shows. Exits non-zero when a step fails.
#
#   scripts/ui-screenshot.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
command -v chromium >/dev/null || { echo "ui-screenshot: install Debian's chromium (apt-get install chromium)" >&2; exit 1; }

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/worker" ./worker
go build -o "$work/starter" ./starter

# A fresh dev stack on its own database, so the list shows only these orders.
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/officeflow_screenshot?sslmode=disable"
psql -h 127.0.0.1 -U postgres -qc 'DROP DATABASE IF EXISTS officeflow_screenshot' postgres
(cd "$work" && exec ./worker -dev >"$work/worker.log" 2>&1) &
for _ in $(seq 120); do
  curl -fs http://127.0.0.1:8080/readyz >/dev/null 2>&1 && curl -fs http://127.0.0.1:8233 >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fs http://127.0.0.1:8080/readyz >/dev/null || { cat "$work/worker.log" >&2; exit 1; }

order() { # id prefix plan seats company
  cat <<JSON
{"order_id":"$1","customer":{"company":"$5","email":"it@$2.pl","first_name":"Anna","last_name":"Nowak",
 "tax_id":"5260250995","country":"PL","city":"Warszawa","postal_code":"00-001","address_line1":"ul. Prosta 1"},
 "plan":"$3","seats":$4,"domain_prefix":"$2","billing_cycle":"monthly","language":"pl"}
JSON
}
order shop-1001 kwiatek business-premium 12 "Kwiatek sp. z o.o." | "$work/starter" place -f - >/dev/null
order shop-1002 zielona business-standard 5 "Zielona Apteka s.c." | "$work/starter" place -f - >/dev/null
order shop-1003 mostowa business-basic 3 "Mostowa Serwis" | "$work/starter" place -f - >/dev/null
"$work/starter" pay shop-1003 >/dev/null
for _ in $(seq 120); do
  "$work/starter" status shop-1003 | grep -q '"installer_ready"' && break
  sleep 0.5
done

shot() { # file url
  # Virtual time waits for the network to settle: a running workflow's page
  # long-polls its history, so the detail shot is of a finished order.
  timeout 120 chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size=1500,1100 \
    --user-data-dir="$work/chromium" --virtual-time-budget=20000 --screenshot="$root/$1" "$2" >/dev/null 2>&1
  test "$(stat -c %s "$root/$1")" -gt 20000 || { echo "ui-screenshot: $1 looks empty" >&2; exit 1; }
}
query=$(python3 -c 'import urllib.parse;print(urllib.parse.quote("OrderStatus = \"awaiting_payment\""))')
shot docs/ui-orders.png "http://127.0.0.1:8233/namespaces/default/workflows?query=$query"
run=$(curl -fs "http://127.0.0.1:8233/api/v1/namespaces/default/workflows/order-shop-1003" | python3 -c 'import json,sys;print(json.load(sys.stdin)["workflowExecutionInfo"]["execution"]["runId"])')
shot docs/ui-order.png "http://127.0.0.1:8233/namespaces/default/workflows/order-shop-1003/$run/history"
echo "ui-screenshot: wrote docs/ui-orders.png and docs/ui-order.png"
