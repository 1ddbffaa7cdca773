#!/bin/sh
# End-to-end test of the HTML report in a real browser (Debian's headless Chromium):
#   sh tests/report/run.sh PATH_TO_rekindle [OUT_DIR]
# Runs the retail example twice (a month earlier, then at its pinned time with --previous and
# --report), renders the report in Chromium and checks that
#   - it loads without a single console message (the report has no script, so any message is a
#     blocked load, a CSP violation or an error); a control page with an external image proves
#     the check sees them;
#   - every chart is in the rendered DOM, and every figure equals the decisions file's and the
#     run summary's (check.js), for `run --report` and for `rekindle report DECISIONS --rules`;
#   - the same inputs give the same bytes, whatever the thread count;
# and leaves screenshots (desktop 1280x2400, phone 390 wide) and a PDF print in OUT_DIR.
set -eu
bin=${1:?usage: sh tests/report/run.sh PATH_TO_rekindle [OUT_DIR]}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
case $bin in
  /*) ;;
  *) bin=$(pwd)/$bin ;;
esac
out=${2:-$(mktemp -d)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
chromium=${CHROMIUM:-chromium}
cd "$root"

fail() {
  echo "report e2e: FAIL: $*" >&2
  exit 1
}

rules=examples/retail/retail.rules
config=examples/retail/rekindle.yaml

# Last month's run, then this one, with --previous (transitions) and --report.
"$bin" run $rules --config $config --as-of 2026-10-23T09:00:00+08:00 --out "$out/previous.csv" --quiet ||
  fail "the previous run failed"
"$bin" run $rules --config $config --previous "$out/previous.csv" --out "$out/decisions.csv" \
  --report "$out/retail-report.html" 2>"$out/summary.txt" || fail "rekindle run --report failed: $(cat "$out/summary.txt")"
grep -q "report:    $out/retail-report.html" "$out/summary.txt" || fail "the summary does not name the report"

# Deterministic: the same run again, on one thread, gives the same bytes.
cp "$out/retail-report.html" "$out/retail-report.first.html"
"$bin" run $rules --config $config --previous "$out/previous.csv" --out "$out/decisions.csv" \
  --report "$out/retail-report.html" --threads 1 --quiet || fail "the second run failed"
cmp -s "$out/retail-report.first.html" "$out/retail-report.html" || fail "two runs gave different reports"

# The report of the decisions file, with the rules for the stage order and limits.
"$bin" report "$out/decisions.csv" -o "$out/file-report.html" --rules $rules --config $config 2>"$out/report.txt" ||
  fail "rekindle report failed: $(cat "$out/report.txt")"
"$bin" report "$out/decisions.csv" -o "$out/file-report.again.html" --rules $rules --config $config 2>/dev/null
cmp -s "$out/file-report.html" "$out/file-report.again.html" || fail "rekindle report is not deterministic"

# Self-contained: nothing that could load anything.
for f in retail-report.html file-report.html; do
  if grep -Eiq '<script|<img|<link|<iframe|src=|href=|url\(|@import|https?:' "$out/$f"; then
    fail "$f refers to an external resource or has a script"
  fi
done

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
browse() {
  limit=""
  if command -v timeout >/dev/null 2>&1; then limit="timeout 120"; fi
  $limit "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --enable-logging=stderr --v=0 --hide-scrollbars "$@"
}
# Console messages, as Chromium logs them: "INFO:CONSOLE:12] "message", source: ...".
console() {
  grep -E ':CONSOLE[:(]' "$1" || true
}

# The control: a page that loads an image from the network must be caught.
sed 's|</body>|<img src="http://127.0.0.1:9/x.png" alt=""></body>|' "$out/retail-report.html" >"$out/control.html"
browse --dump-dom "file://$out/control.html" >"$out/control.dom.html" 2>"$out/control.log" || fail "chromium failed on the control page"
[ -n "$(console "$out/control.log")" ] || fail "the console check did not see the control page's blocked image"

for name in retail-report file-report; do
  browse --dump-dom "file://$out/$name.html" >"$out/$name.dom.html" 2>"$out/$name.log" || fail "chromium failed to load $name.html"
  grep -q 'id="chart-stages-t"' "$out/$name.dom.html" || fail "$name.html: the DOM has no charts"
  messages=$(console "$out/$name.log")
  [ -z "$messages" ] || fail "$name.html: console messages: $messages"
done
node "$here/check.js" "$out/retail-report.dom.html" "$out/decisions.csv" "$out/summary.txt" || fail "the report's figures"
node "$here/check.js" "$out/file-report.dom.html" "$out/decisions.csv" "$out/summary.txt" --from-file ||
  fail "the figures of rekindle report"

# Pictures to look at: the desktop layout, a phone, and the print (A4).
browse --screenshot="$out/retail-report.png" --window-size=1280,2400 "file://$out/retail-report.html" 2>"$out/shot.log" ||
  fail "no screenshot"
browse --screenshot="$out/retail-report-phone.png" --window-size=390,3600 "file://$out/retail-report.html" 2>>"$out/shot.log" ||
  fail "no phone screenshot"
browse --print-to-pdf="$out/retail-report.pdf" --no-pdf-header-footer "file://$out/retail-report.html" 2>>"$out/shot.log" ||
  fail "no PDF"
for f in retail-report.png retail-report-phone.png retail-report.pdf; do
  [ -s "$out/$f" ] || fail "$f is empty"
done
echo "report e2e: ok; screenshot $out/retail-report.png, phone $out/retail-report-phone.png, print $out/retail-report.pdf"
