"""Hostile requests against the real binary: every case must get a 4xx (or its proper
200) in the protocol's own error form, quickly, with the server's memory bounded and
`/healthz` answering after each one. Cases are the ones a hostile tester found, plus
every parameter of every protocol at its type's extremes."""

import concurrent.futures
import os
import subprocess
import time

import pytest
import requests

from conftest import BIN, start_server, stop_server

MAX_SECONDS = float(os.environ.get("HOSTILE_MAX_SECONDS", "5"))
MAX_RSS_MB = 500
BIG = "9223372036854775808"  # 2^63
U64MAX = "18446744073709551615"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    subprocess.run([BIN, "make-fixtures", str(d)], check=True, capture_output=True)
    big = d / "big"
    subprocess.run([BIN, "make-fixtures", str(big), "--large", "8"], check=True, capture_output=True)
    proc, base = start_server([str(d)])
    yield proc, base
    stop_server(proc)


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def dap2_form(r):
    return r.text.startswith("Error {") and "code = " in r.text and r.text.rstrip().endswith("};")


def dap4_form(r):
    return "<Error" in r.text and "httpcode=" in r.text


def json_form(r):
    try:
        body = r.json()
    except ValueError:
        return False
    return "code" in body and ("description" in body or "detail" in body)


def wms_form(r):
    return "ServiceException" in r.text and "xml" in r.headers.get("content-type", "")


def nested_collection(depth):
    return "GEOMETRYCOLLECTION(" * depth + "POINT(0 0)" + ")" * depth


def multipoint(n):
    return "MULTIPOINT(" + ",".join(f"({i % 360 - 180} {(i % 170) - 85})" for i in range(n)) + ")"


def polygon(n):
    import math
    pts = [f"{10 * math.cos(2 * math.pi * k / n):.5f} {10 * math.sin(2 * math.pi * k / n):.5f}" for k in range(n)]
    return "POLYGON((" + ",".join(pts + [pts[0]]) + "))"


def linestring(n, z=False):
    pts = [f"{-170 + 340 * k / n:.4f} {-60 + 120 * k / n:.4f}" for k in range(n)]
    return "LINESTRING(" + ",".join(pts) + ")"


EDR = "/edr/collections"
# (name, path, accepted statuses, form check)
CASES = [
    # DAP2: indices at and past 2^63, wrapping counts, strides.
    ("dap2 huge stop .dods", f"/opendap/sst_classic.nc.dods?lat[0:2:{BIG}]", {400}, dap2_form),
    ("dap2 huge stop .ascii", f"/opendap/sst_classic.nc.ascii?lat[0:2:{BIG}]", {400}, dap2_form),
    ("dap2 huge stop .nc", f"/opendap/sst_classic.nc.nc?lat[0:2:{BIG}]", {400}, dap2_form),
    ("dap2 huge stop .dds", f"/opendap/sst_classic.nc.dds?lat[0:2:{BIG}]", {400}, dap2_form),
    ("dap2 u64 index", f"/opendap/sst_classic.nc.dods?lat[{U64MAX}]", {400}, dap2_form),
    ("dap2 past u64", f"/opendap/sst_classic.nc.dods?lat[{U64MAX}0]", {400}, dap2_form),
    ("dap2 negative", "/opendap/sst_classic.nc.dods?lat[-1]", {400}, dap2_form),
    ("dap2 reversed", "/opendap/sst_classic.nc.dods?lat[5:1:2]", {400}, dap2_form),
    ("dap2 zero stride", "/opendap/sst_classic.nc.dods?lat[0:0:3]", {400}, dap2_form),
    ("dap2 empty brackets", "/opendap/sst_classic.nc.dods?lat[]", {400}, dap2_form),
    ("dap2 stride 2^31-1 classic", "/opendap/sst_classic.nc.dods?sst[0:2147483647:2][0][0]", {200, 400}, None),
    ("dap2 stride 2^63", f"/opendap/sst_classic.nc.dods?sst[0:{BIG}:2][0][0]", {200, 400}, None),
    ("dap2 unknown variable", "/opendap/sst_classic.nc.dods?nothing", {400, 404}, dap2_form),
    ("dap2 many brackets", "/opendap/sst_classic.nc.dods?lat" + "[0]" * 500, {400}, dap2_form),
    ("dap2 many variables", "/opendap/sst_classic.nc.dods?" + ",".join(["lat"] * 2000), {200, 400}, None),
    # DAP4.
    ("dap4 huge stop .dap", f"/opendap/gridded_nc4.nc.dap?dap4.ce=/temp[0:2:{BIG}][0][0][0]", {400}, dap4_form),
    ("dap4 huge stop .dmr", f"/opendap/gridded_nc4.nc.dmr?dap4.ce=/temp[0:2:{BIG}][0][0][0]", {400}, dap4_form),
    ("dap4 u64", f"/opendap/gridded_nc4.nc.dap?dap4.ce=/temp[{U64MAX}][0][0][0]", {400}, dap4_form),
    ("dap4 unbalanced", "/opendap/gridded_nc4.nc.dap?dap4.ce=/temp[0:1", {400}, dap4_form),
    ("dap4 deep groups", "/opendap/gridded_nc4.nc.dap?dap4.ce=" + "/g" * 3000, {400, 404}, dap4_form),
    # EDR: geometry and cost.
    ("edr nested collection 1500", f"{EDR}/sst_classic.nc/position?coords={nested_collection(1500)}", {400, 414}, json_form),
    ("edr nested collection 500", f"{EDR}/sst_classic.nc/position?coords={nested_collection(500)}", {400}, json_form),
    ("edr radius 1000 points", f"{EDR}/big%2Flarge.nc/radius?coords={multipoint(1000)}&within=500&within-units=km", {400, 413}, json_form),
    # URLs past 64 KiB (the HTTP library's URI limit) or heads past 256 KiB are refused
    # by the HTTP layer itself, with an empty 414/431: see `bare_refusal`.
    ("edr area 8000 vertices", f"{EDR}/big%2Flarge.nc/area?coords={polygon(8000)}", {400, 413, 414, 431}, json_form),
    ("edr corridor 1000 vertices", f"{EDR}/big%2Flarge.nc/corridor?coords={linestring(1000)}&corridor-width=100&width-units=km&corridor-height=10&height-units=m", {400, 413, 414}, json_form),
    ("edr trajectory 16000 vertices", f"{EDR}/big%2Flarge.nc/trajectory?coords={linestring(16000)}", {400, 413, 414, 431}, json_form),
    # The same costs within the URL limit: refused by the geometry-work cap up front.
    ("edr area 600 vertices", f"{EDR}/big%2Flarge.nc/area?coords={polygon(600)}", {200, 400, 413}, json_form),
    ("edr corridor 400 vertices", f"{EDR}/big%2Flarge.nc/corridor?coords={linestring(400)}&corridor-width=2000&width-units=km", {400, 413}, json_form),
    ("edr trajectory 700 vertices", f"{EDR}/big%2Flarge.nc/trajectory?coords={linestring(700)}", {200, 400, 413}, json_form),
    ("edr resolution 2^32", f"{EDR}/sst_classic.nc/cube?bbox=0,-10,20,10&resolution-x=4294967296", {200, 400}, json_form),
    ("edr resolution negative", f"{EDR}/sst_classic.nc/cube?bbox=0,-10,20,10&resolution-x=-1", {400}, json_form),
    ("edr bbox NaN", f"{EDR}/sst_classic.nc/cube?bbox=NaN,0,1,1", {400}, json_form),
    ("edr position inf", f"{EDR}/sst_classic.nc/position?coords=POINT(inf 0)", {400}, json_form),
    ("edr huge year", f"{EDR}/sst_classic.nc/position?coords=POINT(0 0)&datetime=99999999999999-01-01", {400}, json_form),
    ("edr date overflow", f"{EDR}/sst_classic.nc/position?coords=POINT(0 0)&datetime=2000-01-01T00:00:00Z/P{BIG}D", {400, 204}, None),
    ("edr within huge", f"{EDR}/sst_classic.nc/radius?coords=POINT(0 0)&within=1e308&within-units=km", {200, 400, 413}, None),
    ("edr limit huge", f"{EDR}/sst_classic.nc/locations?limit={U64MAX}", {200, 400}, None),
    # WMS.
    ("wms 200 layers", "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=" + ",".join(["sst_classic.nc/sst"] * 200)
     + "&STYLES=&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=256&HEIGHT=256&FORMAT=image/png", {400}, wms_form),
    ("wms width 2^32", "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=sst_classic.nc/sst&STYLES=&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=4294967296&HEIGHT=256&FORMAT=image/png", {400}, wms_form),
    ("wms bbox NaN", "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=sst_classic.nc/sst&STYLES=&CRS=CRS:84&BBOX=NaN,-90,180,90&WIDTH=256&HEIGHT=256&FORMAT=image/png", {400}, wms_form),
    ("wms featureinfo huge I", "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=sst_classic.nc/sst&QUERY_LAYERS=sst_classic.nc/sst&STYLES=&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=256&HEIGHT=256&I=" + U64MAX + "&J=0&INFO_FORMAT=text/plain", {400}, wms_form),
    ("wms numcolorbands huge", "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=sst_classic.nc/sst&STYLES=&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=64&HEIGHT=64&FORMAT=image/png&NUMCOLORBANDS=" + U64MAX, {200, 400}, None),
    ("wms tile z huge", "/wms/tiles/sst_classic.nc/sst/4294967296/0/0.png", {400, 404}, None),
    # STAC.
    ("stac bbox NaN", "/stac/search?bbox=NaN,0,1,1", {400}, json_form),
    ("stac bbox inf", "/stac/search?bbox=-inf,0,1,1", {400}, json_form),
    ("stac limit huge", f"/stac/search?limit={U64MAX}", {200, 400}, None),
    ("stac datetime garbage", "/stac/search?datetime=99999999999-99-99", {400}, json_form),
    # Zarr.
    ("zarr huge chunk index", f"/zarr/gridded_nc4.nc/temp/{U64MAX}.0.0.0", {404}, json_form),
    ("zarr v3 huge chunk index", f"/zarr3/gridded_nc4.nc/temp/c/{U64MAX}/0/0/0", {404}, json_form),
    # Everywhere: URLs that are too long.
    ("url too long dap2", "/opendap/sst_classic.nc.dods?" + "x" * 40000, {414}, dap2_form),
    ("url too long wms", "/wms?SERVICE=WMS&" + "x" * 40000, {414}, wms_form),
]


@pytest.mark.parametrize("name,path,statuses,form", CASES, ids=[c[0] for c in CASES])
def test_hostile_request(hostile, name, path, statuses, form):
    proc, base = hostile
    start = time.time()
    r = requests.get(base + path, timeout=60)
    elapsed = time.time() - start
    assert r.status_code in statuses, f"{name}: {r.status_code} {r.text[:300]}"
    bare_refusal = r.status_code in (414, 431) and not r.text
    if form is not None and r.status_code >= 400 and not bare_refusal:
        assert form(r), f"{name}: not in the protocol's error form: {r.text[:300]}"
    assert "/tmp/" not in r.text and str(os.getcwd()) not in r.text, f"{name}: a server path leaked"
    assert elapsed < MAX_SECONDS, f"{name}: took {elapsed:.1f} s"
    assert proc.poll() is None, f"{name}: the server died"
    assert requests.get(base + "/healthz", timeout=5).text == "ok"
    assert rss_mb(proc.pid) < MAX_RSS_MB, f"{name}: RSS {rss_mb(proc.pid):.0f} MB"


def test_body_too_large_in_json_form(hostile):
    _, base = hostile
    r = requests.post(base + "/stac/search", data=b"{" + b" " * (2 << 20) + b"}",
                      headers={"content-type": "application/json"}, timeout=30)
    assert r.status_code == 413
    assert json_form(r), r.text[:200]


def test_parallel_big_maps_stay_bounded(hostile):
    """50 parallel 4096² GetMaps: answered or refused, memory bounded, health kept."""
    proc, base = hostile
    url = (base + "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=big/large.nc/temp&STYLES="
           "&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=4096&HEIGHT=4096&FORMAT=image/png&TIME={t}")
    peak = [0.0]

    def one(k):
        r = requests.get(url.format(t=f"2000-01-0{1 + k % 8}"), timeout=120)
        peak[0] = max(peak[0], rss_mb(proc.pid))
        return r.status_code

    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        futures = [pool.submit(one, k) for k in range(50)]
        health = requests.get(base + "/healthz", timeout=10)
        statuses = [f.result() for f in futures]
    assert health.text == "ok"
    assert set(statuses) <= {200, 503, 400}, statuses
    assert proc.poll() is None
    assert peak[0] < MAX_RSS_MB, f"peak RSS {peak[0]:.0f} MB"
