"""The web interface judged by a real browser (Debian's headless Chromium driven by
Selenium): the catalog, a dataset page, the map viewer over the WMS, the chart from an
EDR query, and the OPeNDAP request builder, whose URL xarray must open to the chosen
subset. Pages are also parsed by html5lib in strict mode. Screenshots go to
conformance/.work/screenshots/."""

import base64
import html
import io
import os
import shutil
import time
import urllib.parse

import html5lib
import numpy as np
import pytest
import requests
import xarray as xr
from PIL import Image

from conftest import start_server, stop_server
from dsg_files import write_stations

SHOTS = os.path.join(os.path.dirname(__file__), ".work", "screenshots")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="needs Debian's chromium and chromium-driver (scripts/setup-system.sh --test)",
)


@pytest.fixture(scope="module")
def site(fixtures_dir, tmp_path_factory):
    # The fixtures, and an observation file (three stations).
    work = tmp_path_factory.mktemp("web")
    data = work / "data"
    data.mkdir()
    for f in os.listdir(fixtures_dir):
        shutil.copy(os.path.join(fixtures_dir, f), data / f)
    write_stations(str(data / "stations.nc"))
    config = work / "datagate.toml"
    config.write_text(f'[[roots]]\npath = "{data}"\n')
    proc, base = start_server(["--config", str(config)])
    yield base
    stop_server(proc)


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--window-size=1280,1000", "--lang=en-GB"]:
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    os.makedirs(SHOTS, exist_ok=True)
    yield driver
    driver.quit()


def wait(driver, condition, timeout=15, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = condition(driver)
            if last:
                return last
        except Exception as e:  # an element not there yet
            last = e
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def console_errors(driver):
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def shot(driver, name, element=None):
    """A screenshot of the whole page (or of one element), beyond the window's height."""
    if element is None:
        m = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": m["width"], "height": m["height"]}
    else:
        clip = driver.execute_script(
            "const r = arguments[0].getBoundingClientRect();"
            "return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height};", element)
    data = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True, "clip": dict(clip, scale=1)})
    with open(os.path.join(SHOTS, f"{name}.png"), "wb") as f:
        f.write(base64.b64decode(data["data"]))


def strict_parse(text):
    html5lib.HTMLParser(strict=True).parse(text)


# ---- server-side HTML (no browser) -------------------------------------------------

def test_pages_are_valid_html(site):
    accept_html = {"Accept": "text/html"}
    for path in ["/", "/?q=sst&format=netcdf3-classic", "/?q=nothing-matches-this",
                 "/datasets/sst_classic.nc", "/datasets/gridded_nc4.nc", "/datasets/curvilinear.nc",
                 "/?bbox=1,2", "/datasets/no-such.nc"]:
        r = requests.get(site + path, headers=accept_html, timeout=20)
        assert r.headers["content-type"].startswith("text/html"), path
        assert r.status_code in (200, 400, 404), path
        strict_parse(r.text)
        assert str(os.path.dirname(__file__)) not in r.text and "/tmp/" not in r.text, path
    assert requests.get(site + "/?bbox=1,2", headers=accept_html, timeout=10).status_code == 400
    assert requests.get(site + "/datasets/no-such.nc", headers=accept_html, timeout=10).status_code == 404


def test_other_clients_get_json(site):
    r = requests.get(site + "/datasets/sst_classic.nc", timeout=10)
    assert r.headers["content-type"].startswith("application/json")
    doc = r.json()
    assert [v["name"] for v in doc["variables"] if not v["coordinate"]][:3] == ["sst", "sst_packed", "quality"]
    assert {link["rel"] for link in doc["links"]} >= {"opendap", "zarr", "edr", "wms", "notebook"}
    r = requests.get(site + "/datasets/sst_classic.nc/notebook.ipynb", timeout=10)
    assert r.json()["nbformat"] == 4
    assert requests.get(site + "/datasets/no-such.nc", timeout=10).status_code == 404
    # Static files: long-lived, and unknown ones a 404.
    page = requests.get(site + "/", headers={"Accept": "text/html"}, timeout=10).text
    css = html.unescape(page.split('rel="stylesheet" href="')[1].split('"')[0])
    assert css.startswith(site + "/static/")
    r = requests.get(css, timeout=10)
    assert r.status_code == 200 and "immutable" in r.headers["cache-control"]
    assert requests.get(site + "/static/0.0.0/datagate.css", timeout=10).status_code == 404


# ---- in the browser ------------------------------------------------------------------

def rows(driver):
    return driver.find_elements("css selector", "#results tr.hit")


def test_catalog_loads_without_console_errors(site, browser):
    browser.get(site + "/")
    wait(browser, lambda d: len(rows(d)) >= 6, what="result rows")
    # The results' extents are drawn on the map.
    wait(browser, lambda d: d.find_elements("css selector", "#catalog-map path.leaflet-interactive"),
         what="extent boxes")
    shot(browser, "catalog")
    assert console_errors(browser) == []


def test_search_narrows_results(site, browser):
    browser.get(site + "/")
    total = len(wait(browser, rows, what="rows"))
    box = browser.find_element("id", "q")
    box.send_keys("curvilinear")
    # Live filtering: no submit.
    wait(browser, lambda d: len(rows(d)) == 1, what="one result")
    assert rows(browser)[0].get_attribute("data-id") == "curvilinear.nc"
    assert "q=curvilinear" in browser.current_url
    box.clear()
    box.send_keys("sea_surface_temperature")
    wait(browser, lambda d: "q=sea_surface_temperature" in d.current_url, what="the new search")
    ids = {r.get_attribute("data-id") for r in rows(browser)}
    assert 0 < len(ids) < total
    assert "sst_classic.nc" in ids and "curvilinear.nc" not in ids
    # A facet narrows further.
    from selenium.webdriver.support.ui import Select
    Select(browser.find_element("id", "facet-format")).select_by_value("netcdf3-classic")
    wait(browser, lambda d: [r.get_attribute("data-id") for r in rows(d)] == ["sst_classic.nc"],
         what="the classic file only")
    shot(browser, "catalog-search")
    assert console_errors(browser) == []


def test_drawing_a_box_searches_that_area(site, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    browser.get(site + "/")
    wait(browser, lambda d: len(rows(d)) >= 6, what="rows")
    area = browser.find_element("id", "catalog-map")
    browser.execute_script("arguments[0].scrollIntoView()", area)
    w, h = area.size["width"], area.size["height"]
    # Shift-drag over a small part of the map (the middle of the world view).
    (ActionChains(browser).key_down(Keys.SHIFT).move_to_element_with_offset(area, -w // 8, -h // 8)
     .click_and_hold().move_by_offset(w // 16, h // 16).move_by_offset(w // 16, h // 16).release()
     .key_up(Keys.SHIFT).perform())
    wait(browser, lambda d: "bbox=" in d.current_url, what="a bbox search")
    bbox = [float(x) for x in browser.find_element("id", "bbox").get_attribute("value").split(",")]
    assert bbox[0] < bbox[2] and bbox[1] < bbox[3]
    assert len(rows(browser)) < 7


def open_dataset(browser, site, ds_id):
    browser.get(site + "/")
    link = wait(browser, lambda d: d.find_element(
        "css selector", f'#results tr.hit[data-id="{ds_id}"] a.dataset-link'), what="link")
    link.click()
    wait(browser, lambda d: d.find_elements("id", "variables"), what="dataset page")


def test_dataset_page_lists_variables(site, browser):
    open_dataset(browser, site, "sst_classic.nc")
    assert browser.title.startswith("Sea surface temperature")
    names = [e.text for e in browser.find_elements("css selector", "#variables tbody th code")]
    assert names == ["time", "lat", "lon", "sst", "sst_packed", "quality", "platform"]
    table = browser.find_element("id", "variables").text
    assert "sea_surface_temperature" in table and "time=3, lat=10, lon=18" in table
    snippets = browser.find_element("css selector", "#access-h + ul + h3").find_element("xpath", "..").text
    assert "xr.open_dataset" in snippets and "/opendap/sst_classic.nc" in snippets


def tile_images(browser):
    return browser.find_elements("css selector", "#map img.leaflet-tile-loaded")


def tile_pixels(browser, img):
    """The tile as the server sent it (the same URL, fetched again), as RGBA pixels."""
    src = img.get_attribute("src")
    r = requests.get(src, timeout=20)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png", src
    return np.asarray(Image.open(io.BytesIO(r.content)).convert("RGBA"))


def time_params(browser):
    out = set()
    for img in tile_images(browser):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(img.get_attribute("src")).query)
        assert q["REQUEST"] == ["GetMap"]
        out.update(q.get("TIME", []))
    return out


def test_map_draws_wms_tiles_and_the_time_slider_changes_them(site, browser):
    open_dataset(browser, site, "sst_classic.nc")
    wait(browser, lambda d: len(tile_images(d)) > 0, timeout=30, what="WMS tiles")
    # Wait until the tiles settle (Leaflet loads the visible ones).
    wait(browser, lambda d: d.execute_script(
        "return document.querySelectorAll('#map img.leaflet-tile:not(.leaflet-tile-loaded)').length === 0"),
        timeout=30, what="all tiles loaded")
    # Non-blank: some tile has coloured, opaque pixels (the sst field).
    opaque = max(int((tile_pixels(browser, img)[..., 3] > 0).sum()) for img in tile_images(browser))
    assert opaque > 1000
    legend = browser.find_element("id", "legend")
    assert "GetLegendGraphic" in legend.get_attribute("src")
    wait(browser, lambda d: d.execute_script("return arguments[0].naturalWidth > 0", legend), what="legend")
    before = time_params(browser)
    assert before == {"2000-03-01T00:00:00Z"}  # the last time step by default
    shot(browser, "map")
    # The keyboard moves the slider; new tiles ask for the other time.
    from selenium.webdriver.common.keys import Keys
    slider = browser.find_element("id", "time")
    slider.send_keys(Keys.HOME)
    wait(browser, lambda d: time_params(d) == {"2000-01-01T00:00:00Z"}, timeout=30, what="tiles of the first time")
    assert browser.find_element("id", "time-value").text == "2000-01-01T00:00:00Z"
    assert console_errors(browser) == []


def test_clicking_the_map_shows_a_time_series(site, browser):
    open_dataset(browser, site, "sst_classic.nc")
    wait(browser, lambda d: d.execute_script("return !!(window.datagateViewer && window.datagateViewer.state.layer)"),
         what="the viewer")
    # A point with data: lon 40, lat 15 (a grid cell of the fixture).
    browser.execute_script("window.datagateViewer.map.fire('click', {latlng: L.latLng(15, 40)});")
    wait(browser, lambda d: d.find_elements("css selector", "#chart .uplot canvas"), what="a chart")
    status = browser.find_element("id", "map-status").text
    assert status.startswith("3 values of sst"), status
    # The EDR builder follows the click and its URL answers.
    edr = browser.find_element("id", "edr-url").text
    assert "/edr/collections/sst_classic.nc/position?coords=POINT" in edr
    r = requests.get(edr, timeout=20)
    assert r.status_code == 200, r.text
    wait(browser, lambda d: d.execute_script(
        "return document.querySelectorAll('#map img.leaflet-tile:not(.leaflet-tile-loaded)').length === 0"),
        timeout=30, what="all tiles loaded")
    shot(browser, "map-chart", browser.find_element("id", "viewer"))
    # A box drawn on the map (shift-drag) becomes an EDR area query that answers.
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    area = browser.find_element("id", "map")
    browser.execute_script("arguments[0].scrollIntoView()", area)
    (ActionChains(browser).key_down(Keys.SHIFT).move_to_element_with_offset(area, -40, -40)
     .click_and_hold().move_by_offset(30, 30).move_by_offset(50, 50).release().key_up(Keys.SHIFT).perform())
    edr = wait(browser, lambda d: d.find_element("id", "edr-url").text if "/area?coords=POLYGON" in
               d.find_element("id", "edr-url").text else None, what="an area query")
    r = requests.get(edr, timeout=20)
    assert r.status_code == 200, r.text
    shot(browser, "dataset")
    # Without a mouse: the EDR builder's point, then its button.
    lon = browser.find_element("id", "edr-lon")
    lon.send_keys(Keys.CONTROL, "a")
    lon.send_keys("-175")
    browser.find_element("id", "edr-plot").send_keys(Keys.ENTER)
    wait(browser, lambda d: "-175.00°" in d.find_element("id", "map-status").text and
         d.find_element("id", "map-status").text.startswith("3 values"), what="the keyboard's time series")
    assert console_errors(browser) == []


def test_observations_are_drawn_as_points(site, browser):
    browser.get(site + "/?feature_type=timeseries")
    wait(browser, lambda d: [r.get_attribute("data-id") for r in rows(d)] == ["stations.nc"], what="the stations")
    open_dataset(browser, site, "stations.nc")
    markers = wait(browser, lambda d: d.find_elements("css selector", "#map path.leaflet-interactive"),
                   what="station markers")
    assert len(markers) == 3
    # The observed variables are WMS layers too: the stations drawn as coloured dots.
    options = wait(browser, lambda d: [o.get_attribute("value") for o in
                                       d.find_element("id", "layer").find_elements("tag name", "option")],
                   what="the observation layers")
    assert {"temp", "wind"} <= {o.split("/")[-1] for o in options}, options
    wait(browser, lambda d: len(tile_images(d)) > 0, timeout=30, what="WMS tiles")
    wait(browser, lambda d: d.execute_script(
        "return document.querySelectorAll('#map img.leaflet-tile:not(.leaflet-tile-loaded)').length === 0"),
        timeout=30, what="all tiles loaded")
    opaque = sum(int((tile_pixels(browser, img)[..., 3] > 0).sum()) for img in tile_images(browser))
    assert opaque > 50, opaque
    shot(browser, "observations", browser.find_element("id", "viewer"))
    assert console_errors(browser) == []


def test_dap_form_builds_a_url_xarray_opens_to_the_subset(site, browser, fixtures_dir):
    open_dataset(browser, site, "sst_classic.nc")
    form = browser.find_element("id", "dap-form")
    form.find_element("css selector", 'input[name=var][value="sst"]').click()

    def set_range(dim, first, last):
        for cls, v in [("dim-start", first), ("dim-stop", last)]:
            box = form.find_element("css selector", f'.dim[data-dim="{dim}"] .{cls}')
            box.clear()
            box.send_keys(str(v))

    set_range("time", 1, 2)
    set_range("lat", 2, 5)
    set_range("lon", 3, 10)
    url = wait(browser, lambda d: d.find_element("id", "dap-url").text if "sst[1:1:2][2:1:5][3:1:10]"
               in d.find_element("id", "dap-url").text else None, what="the constrained URL")
    size = browser.find_element("id", "dap-size").text
    assert size == "about 320 B of values", size  # 2*4*8 floats, and time, lat, lon (f64, f32, f32)
    shot(browser, "dap-form", browser.find_element("id", "dap-builder"))
    served = xr.open_dataset(url, engine="netcdf4", decode_times=False)
    local = xr.open_dataset(os.path.join(fixtures_dir, "sst_classic.nc"), decode_times=False)
    want = local.sst.isel(time=slice(1, 3), lat=slice(2, 6), lon=slice(3, 11))
    assert served.sst.shape == (2, 4, 8)
    np.testing.assert_allclose(served.sst.values, want.values, rtol=1e-6)
    np.testing.assert_allclose(served.lat.values, want.lat.values)
    # The NetCDF download link is the same subset.
    nc = browser.find_element("id", "dap-nc").get_attribute("href")
    r = requests.get(nc, timeout=20)
    assert r.status_code == 200 and r.content[:3] in (b"CDF", b"\x89HD")


UNLABELLED = """
return Array.from(document.querySelectorAll('input, select, textarea, button'))
  .filter((el) => el.type !== 'hidden' && !el.closest('.leaflet-container'))
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                  && !(el.tagName === 'BUTTON' && el.textContent.trim()))
  .map((el) => el.outerHTML.slice(0, 80));
"""


def test_accessible_and_responsive(site, browser):
    try:
        for path in ["/", "/datasets/gridded_nc4.nc", "/datasets/curvilinear.nc", "/datasets/types_nc4.nc"]:
            browser.set_window_size(1280, 1000)
            browser.get(site + path)
            wait(browser, lambda d: d.find_elements("css selector", "footer.site"), what="the page")
            if path != "/":
                # The viewer has settled: layers listed, or said why there are none.
                wait(browser, lambda d: d.find_element("id", "layer").find_elements("tag name", "option")
                     or d.find_element("id", "map-controls").get_attribute("hidden") is not None,
                     what="the viewer")
            assert console_errors(browser) == [], path
            # Every control has a name a screen reader can say.
            assert browser.execute_script(UNLABELLED) == [], path
            # A phone's width: no sideways scrolling of the page.
            browser.set_window_size(390, 844)
            time.sleep(0.3)
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 1, (path, overflow)
        shot(browser, "dataset-phone")
    finally:
        browser.set_window_size(1280, 1000)
