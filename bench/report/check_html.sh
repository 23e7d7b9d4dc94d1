#!/usr/bin/env bash
# Opens nerve's HTML report in headless Chromium (Debian's `chromium` package) and
# takes a screenshot: the page must render without network access and show the
# spike raster and the per-core activity heatmap.
#
#   bench/report/check_html.sh [OUT_DIR]       (needs: apt-get install chromium)
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-$(mktemp -d)}"
mkdir -p "$out"
chrome="$(command -v chromium || command -v chromium-browser || true)"
[ -n "$chrome" ] || { echo "chromium not found: apt-get install chromium" >&2; exit 2; }
cargo build --release -q -p nerve-cli
nerve=target/release/nerve
$nerve compile examples/small.json --arch spinnaker -o "$out/small.img" -q
$nerve run "$out/small.img" --steps 5000 --report "$out/run.json" -q
$nerve report "$out/run.json" --html "$out/report.html" --plots "$out/plots" > /dev/null
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --user-data-dir="$out/profile")
# The DOM as Chromium built it: both pictures must be there as inline SVG.
"$chrome" "${flags[@]}" --dump-dom "file://$(realpath "$out/report.html")" > "$out/dom.html" 2> "$out/chromium.log"
for id in raster activity links energy latency; do
  grep -q "<figure id=\"$id\"><svg" "$out/dom.html" || { echo "FAIL: figure $id missing from the rendered page" >&2; exit 1; }
done
# A screenshot of the top of the page: the summary, then the raster, then the heatmap.
"$chrome" "${flags[@]}" --window-size=1000,1700 --virtual-time-budget=5000 --screenshot="$out/screenshot.png" \
  "file://$(realpath "$out/report.html")" 2>> "$out/chromium.log"
[ -s "$out/screenshot.png" ] || { echo "FAIL: no screenshot" >&2; exit 1; }
python3 - "$out" <<'PY'
import struct, sys, zlib
# A screenshot that is not blank: count non-white pixels (PNG decoded by hand, 8-bit RGB(A)).
def pixels(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            bpp = {2: 3, 6: 4}[ctype]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line); prev = line
    return rows, stride, bpp
rows, stride, bpp = pixels(f"{sys.argv[1]}/screenshot.png")
def count(y0, y1, pred):
    return sum(1 for r in rows[y0:y1] for i in range(0, stride, bpp) if pred(r[i], r[i + 1], r[i + 2]))
h = len(rows)
# Raster dots: saturated palette colours (not grey, not white) in the upper part.
raster = count(0, h // 2, lambda r, g, b: max(r, g, b) - min(r, g, b) > 80)
# Heatmap cells: the white-to-dark-red scale (red well above green and blue) in the lower part.
heat = count(h // 2, h, lambda r, g, b: r > 150 and g < 140 and b < 140 and abs(g - b) < 12)
print(f"screenshot.png: {raster} raster-coloured pixels in the upper half, {heat} heatmap-red pixels in the lower half")
assert raster > 2000, "no raster on the screenshot"
assert heat > 2000, "no heatmap on the screenshot"
PY
echo "OK: report renders in headless Chromium; screenshots in $out"
