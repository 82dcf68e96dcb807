#!/bin/bash
# The HTML report in a real browser: builds a report (a quick `dynlab
# reproduce` of the registered systems, or two run directories fabricated by
# test_report when none is registered yet), opens every page in headless
# Chromium, and checks from inside the page (after the load event) that every
# image loaded (naturalWidth > 0) and that the claims table is there. Also
# takes a screenshot of the index. A negative control (a page with a broken
# image) must be flagged, so the check cannot pass vacuously.
#
# Env: DYNLAB, DYNLAB_BUILD_DIR (set by ctest); DYNLAB_REPORT_SYSTEMS="a b"
# chooses the systems reproduced (default: the registered ones among six fast
# systems with line, log-axis and heatmap figures -- each system's own test
# already runs its quick preset, and test_plot draws every plot kind; "all"
# for every system; the first one in sanitized builds);
# DYNLAB_CHROMIUM overrides the browser path.
set -u
fail() { echo "test_report_browser: FAIL: $*" >&2; exit 1; }

DYNLAB=${DYNLAB:?DYNLAB (the dynlab program) must be set}
BUILD=${DYNLAB_BUILD_DIR:-$(dirname "$DYNLAB")}
CHROMIUM=${DYNLAB_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$CHROMIUM" ] && [ -x "$CHROMIUM" ] ||
    fail "Chromium not found (install the Debian package 'chromium'; .ci/run does): cannot check the report in a browser"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dynlab-browser-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/home"

# ---- 1. a report ---------------------------------------------------------
systems=$("$DYNLAB" list 2>/dev/null | awk 'NF {print $1}')
if [ "${DYNLAB_REPORT_SYSTEMS:-}" = all ]; then
    :
elif [ -n "${DYNLAB_REPORT_SYSTEMS:-}" ]; then
    systems=$DYNLAB_REPORT_SYSTEMS
elif [ "${DYNLAB_SANITIZED:-0}" = 1 ]; then
    systems=$(echo "$systems" | head -n 1)
else
    systems=$(echo "$systems" | grep -xE 'gpt|icl|ioaa|monitor|parity|dag' || true)
fi
if [ -n "$systems" ]; then
    echo "reproducing: $(echo $systems)"
    # Exit 1 means a claim (or run) failed: the report is still what we check here.
    DYNLAB_NO_PROGRESS=1 "$DYNLAB" reproduce $systems --quick -o "$tmp/report" >"$tmp/reproduce.log" 2>&1
    rc=$?
    [ $rc -le 1 ] || { tail -20 "$tmp/reproduce.log"; fail "dynlab reproduce exited $rc"; }
else
    echo "no registered system: fabricating run directories with test_report"
    "$BUILD/tests/test_report" --fabricate "$tmp/runs" || fail "test_report --fabricate failed"
    "$DYNLAB" report "$tmp/runs/alpha" "$tmp/runs/beta" -o "$tmp/report" || fail "dynlab report failed"
fi
report=$tmp/report
[ -f "$report/index.html" ] || { tail -20 "$tmp/reproduce.log" 2>/dev/null; fail "no index.html in the report"; }

# ---- 2. the in-page check --------------------------------------------------
# Appended to a copy of each page (the report itself has no scripts): after
# load, writes a marker listing images that did not decode.
cat >"$tmp/check.js" <<'JS'
<script>
window.addEventListener('load', function () {
  var bad = [], imgs = document.images;
  for (var i = 0; i < imgs.length; i++)
    if (!imgs[i].complete || imgs[i].naturalWidth === 0) bad.push(imgs[i].getAttribute('src'));
  var m = document.createElement('pre');
  m.id = 'dynlab-check';
  m.textContent = 'DYNLAB-CHECK images=' + imgs.length + ' broken=[' + bad.join(' ') + '] claims_tables=' +
      document.querySelectorAll('table.claims').length + ' systems_tables=' +
      document.querySelectorAll('table.systems').length + ' END';
  document.body.appendChild(m);
});
</script>
JS

browser() {
    HOME="$tmp/home" timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
        --no-first-run --disable-background-networking --disable-component-update --disable-sync \
        --disable-breakpad --hide-scrollbars --user-data-dir="$(mktemp -d "$tmp/profile-XXXXXX")" "$@" \
        2>>"$tmp/chromium.err"
}

# check PAGE -> prints the marker line of PAGE rendered with the check.
check_page() {
    local page=$1 copy
    copy="$(dirname "$page")/zz-check-$(basename "$page")"
    awk -v js="$tmp/check.js" '/<\/body>/ { while ((getline l < js) > 0) print l; close(js) } { print }' \
        "$page" >"$copy"
    browser --virtual-time-budget=15000 --dump-dom "file://$copy" | grep -o 'DYNLAB-CHECK[^<]*END' | head -n 1
    rm -f "$copy"
}

field() { echo "$1" | sed -n "s/.* $2=\([^ ]*\).*/\1/p"; }

# Negative control: a broken image must be reported.
printf '<!DOCTYPE html>\n<html><body>\n<img src="assets/no-such.png">\n<img src="%s">\n</body>\n</html>\n' \
    "$(cd "$report" && ls assets/*/plots/*.png 2>/dev/null | head -n 1)" >"$report/control.html"
marker=$(check_page "$report/control.html")
rm -f "$report/control.html"
[ -n "$marker" ] || { tail -5 "$tmp/chromium.err"; fail "Chromium produced no check marker for the control page"; }
echo "$marker" | grep -q 'broken=\[assets/no-such.png' || fail "the broken-image check missed a broken image: $marker"

# ---- 3. every page ----------------------------------------------------------
pages=0
for page in "$report"/*.html; do
    name=$(basename "$page")
    marker=$(check_page "$page")
    [ -n "$marker" ] || { tail -5 "$tmp/chromium.err"; fail "$name: no check marker (page did not load?)"; }
    echo "$name: $marker"
    images=$(field "$marker" images)
    [ "$(field "$marker" broken)" = "[]" ] || fail "$name: broken images: $marker"
    expected=$(grep -o '<img ' "$page" | wc -l)
    [ "$images" -eq "$expected" ] || fail "$name: $images images loaded, the HTML has $expected"
    if [ "$name" = index.html ]; then
        [ "$(field "$marker" systems_tables)" -ge 1 ] || fail "index.html: no systems table"
        [ "$images" -ge 1 ] || fail "index.html: no thumbnail at all"
    else
        [ "$(field "$marker" claims_tables)" -ge 1 ] || fail "$name: no claims table"
        grep -q '<td class="\(pass\|fail\)">\(PASS\|FAIL\)</td>' "$page" || fail "$name: no PASS/FAIL cell"
    fi
    pages=$((pages + 1))
done
[ $pages -ge 2 ] || fail "expected the index and at least one system page, found $pages page(s)"

# ---- 4. a screenshot ------------------------------------------------------------
browser --window-size=1280,1000 --screenshot="$tmp/index.png" "file://$report/index.html" >/dev/null
[ "$(head -c 8 "$tmp/index.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
    fail "no PNG screenshot of the index"
echo "test_report_browser: OK ($pages pages, every image loaded, claims tables present)"
