"""WMS maps of Cloud-Optimised GeoTIFFs drawn from their overviews: a map whose pixels
are much coarser than the raster's cells reads the coarsest overview still as fine as
a pixel, tile by tile by byte ranges from object storage (moto), instead of the whole
full-resolution raster (which is over this server's `max_response_bytes`); a zoomed-in
map still draws the full resolution, reading only the cells under it.

The COGs are written with GDAL (`gdal_translate -of COG`, internal 256² tiles and
overviews); the references are rasterio's reads of the overview (`overview_level`) and
of the full raster, written as plain GeoTIFFs and drawn by the same server, so that
the comparison is of the values drawn, not of the palette."""

import io
import re
import subprocess
import sys

import numpy as np
import pytest
import requests
from PIL import Image

from conftest import start_server, stop_server

LIMIT = 8 << 20  # the full 2048² float32 slice is 16 MiB

WRITE = r"""
import subprocess, sys
import numpy as np
import rasterio
from rasterio.transform import from_origin

src, out = sys.argv[1], sys.argv[2]

def tif(path, a, transform):
    with rasterio.open(path, "w", driver="GTiff", height=a.shape[0], width=a.shape[1],
                       count=1, dtype="float32", crs="EPSG:4326", transform=transform) as d:
        d.write(a, 1)

def cog(a, transform, name):
    tif(f"{src}/{name}", a, transform)
    subprocess.run(["gdal_translate", "-q", "-of", "COG", "-co", "COMPRESS=DEFLATE",
                    "-co", "BLOCKSIZE=256", "-co", "OVERVIEWS=AUTO", "-co", "RESAMPLING=AVERAGE",
                    f"{src}/{name}", f"{out}/{name}"], check=True)

# 2048² cells of 0.01° over 0..20.48 E, 0..20.48 N: a gradient plus incompressible
# noise, so that an overview (averages) differs from any sample of the full raster.
rng = np.random.default_rng(11)
rows, cols = np.mgrid[0:2048, 0:2048]
big = (0.5 * (rows + cols) / 4096 + 0.5 * rng.random((2048, 2048))).astype("float32")
cog(big, from_origin(0, 20.48, 0.01, 0.01), "big.tif")
with rasterio.open(f"{out}/big.tif") as d:
    factors = d.overviews(1)
with rasterio.open(f"{out}/big.tif", overview_level=factors.index(8)) as d:
    ov8 = d.read(1)
assert ov8.shape == (256, 256), ov8.shape
tif(f"{out}/ref_overview.tif", ov8, from_origin(0, 20.48, 0.08, 0.08))
# What a map drawn from the full raster (nearest cell to each pixel centre) shows.
tif(f"{out}/ref_full.tif", big[4::8, 4::8].copy(), from_origin(0, 20.48, 0.08, 0.08))
# The full resolution of the south-west corner (128² cells over 0..1.28 E, 0..1.28 N).
tif(f"{out}/ref_corner.tif", big[1920:, :128].copy(), from_origin(0, 1.28, 0.01, 0.01))

# 512² checkerboard over 30..40.24 E, 0..10.24 N: cells alternate 0 and 1, every
# overview is a flat 0.5.
small = ((rows[:512, :512] + cols[:512, :512]) % 2).astype("float32")
cog(small, from_origin(30, 10.24, 0.02, 0.02), "checker.tif")
print(",".join(str(f) for f in factors))
"""


@pytest.fixture(scope="module")
def cogs(tmp_path_factory):
    src = tmp_path_factory.mktemp("cog-src")
    data = tmp_path_factory.mktemp("cog-data")
    out = subprocess.run([sys.executable, "-c", WRITE, str(src), str(data)], check=True,
                         capture_output=True, text=True)
    assert "8" in out.stdout.strip().split(","), out.stdout
    return data


@pytest.fixture(scope="module")
def server(cogs, tmp_path_factory):
    """The COGs in S3 (moto), read by byte ranges, with a response limit below the
    full-resolution slice of big.tif."""
    from s3server import MotoServer

    moto = MotoServer()
    moto.upload_dir(cogs, "cogs")
    work = tmp_path_factory.mktemp("cog-s3")
    config = work / "datagate.toml"
    config.write_text(moto.config_toml(work / "file-cache", ["s3://datagate-test/cogs/"])
                      + f"[limits]\nmax_response_bytes = {LIMIT}\n")
    proc, base = start_server(["--config", str(config)])
    yield base
    stop_server(proc)
    moto.stop()


def getmap(server, layer, bbox, size=256, extra=None):
    params = {"SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetMap", "LAYERS": layer,
              "STYLES": "default-scalar/greys", "CRS": "CRS:84", "BBOX": bbox,
              "WIDTH": str(size), "HEIGHT": str(size), "FORMAT": "image/png",
              "COLORSCALERANGE": "0,1", "NUMCOLORBANDS": "250"}
    params.update(extra or {})
    return requests.get(server + "/wms", params=params, timeout=60)


def pixels(r):
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"] == "image/png"
    return np.asarray(Image.open(io.BytesIO(r.content)).convert("RGBA")).astype(int)


def range_bytes(server):
    text = requests.get(server + "/metrics", timeout=10).text
    m = re.search(r'datagate_object_store_bytes_total\{kind="range"\} (\d+)', text)
    return int(m.group(1)) if m else 0


WHOLE = "0,0,20.48,20.48"


def test_small_map_of_a_big_cog_draws_its_overview(server, cogs):
    before = range_bytes(server)
    img = pixels(getmap(server, "big.tif/band_data", WHOLE))
    fetched = range_bytes(server) - before
    # The overview's one 256² tile (and the IFDs), not the 16 MiB raster.
    size = (cogs / "big.tif").stat().st_size
    assert 0 < fetched < 2 << 20 < size / 8, (fetched, size)
    ref = pixels(getmap(server, "ref_overview.tif/band_data", WHOLE))
    close = (np.abs(img - ref).max(axis=2) <= 2).mean()
    assert close > 0.99, close
    # The comparison can fail: the full raster's cells draw another picture.
    full = pixels(getmap(server, "ref_full.tif/band_data", WHOLE))
    assert (np.abs(img - full).max(axis=2) > 2).mean() > 0.5


def test_default_colour_range_and_tiles_stay_within_the_limit(server):
    # No COLORSCALERANGE: the default range is sampled from the coarsest overview.
    r = getmap(server, "big.tif/band_data", WHOLE, extra={"COLORSCALERANGE": ""})
    assert len(np.unique(pixels(r).reshape(-1, 4), axis=0)) > 10
    # An XYZ tile (Web Mercator, zoom 3) over the raster.
    t = requests.get(f"{server}/wms/tiles/big.tif/band_data/3/4/3.png", timeout=60)
    img = pixels(t)
    assert (img[..., 3] > 0).sum() > 1000


def test_zoomed_in_map_draws_full_resolution(server):
    layer = "checker.tif/band_data"
    # The whole checkerboard at 64 px: 8 cells a pixel, an overview of flat 0.5.
    whole = pixels(getmap(server, layer, "30,0,40.24,10.24", size=64))
    assert len(np.unique(whole.reshape(-1, 4), axis=0)) == 1
    # 64 × 64 cells at 64 px: one cell a pixel, the full resolution's alternation.
    zoomed = pixels(getmap(server, layer, "30,0,31.28,1.28", size=64))
    differ = (np.abs(zoomed[:, 1:] - zoomed[:, :-1]).max(axis=2) > 100).mean()
    assert differ > 0.95, differ


def test_zoomed_in_map_of_a_big_cog_reads_only_its_window(server, cogs):
    # One cell a pixel: the full resolution, whose whole 16 MiB slice is over the limit;
    # only the cells under the map are read (one 256² tile), and drawn as they are.
    before = range_bytes(server)
    img = pixels(getmap(server, "big.tif/band_data", "0,0,1.28,1.28", size=128))
    fetched = range_bytes(server) - before
    assert 0 < fetched < 2 << 20, fetched
    ref = pixels(getmap(server, "ref_corner.tif/band_data", "0,0,1.28,1.28", size=128))
    close = (np.abs(img - ref).max(axis=2) <= 2).mean()
    assert close > 0.99, close
