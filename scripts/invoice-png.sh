#!/usr/bin/env bash
# Renders the sample VAT invoice of internal/document's tests and writes its
# first page as docs/invoice.png (pdftoppm, from Debian's poppler-utils), the
# picture the README shows.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
go test ./internal/document -run '^TestSampleInvoice$' -count=1 -args -sample "$tmp/invoice.pdf" >/dev/null
pdftoppm -png -r 80 -f 1 -l 1 -singlefile "$tmp/invoice.pdf" docs/invoice
echo "wrote docs/invoice.png"
