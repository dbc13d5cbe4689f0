"""THREDDS catalogs judged by Siphon: datasets with access URLs of every service,
aggregations as catalog references listing their files."""

import requests
from siphon.catalog import TDSCatalog

from test_stac import stac_server  # noqa: F401  (the server with an aggregation)


def test_top_catalog(stac_server):  # noqa: F811
    base, _ = stac_server
    r = requests.get(base + "/thredds/catalog.xml", timeout=10)
    assert r.headers["content-type"].startswith("application/xml")
    cat = TDSCatalog(base + "/thredds/catalog.xml")
    names = set(cat.datasets)
    assert {"sst_classic.nc", "gridded_nc4.nc", "types_nc4.nc"} <= names
    ds = cat.datasets["gridded_nc4.nc"]
    assert ds.access_urls["OPENDAP"] == base + "/opendap/gridded_nc4.nc"
    assert ds.access_urls["WMS"] == base + "/wms/gridded_nc4.nc"
    assert "DAP4" in ds.access_urls
    assert [ref for ref in cat.catalog_refs] == ["Daily SST"]


def test_collection_catalog(stac_server):  # noqa: F811
    base, _ = stac_server
    cat = TDSCatalog(base + "/thredds/catalog.xml")
    daily = cat.catalog_refs["Daily SST"].follow()
    urls = [d.access_urls["OPENDAP"] for d in daily.datasets.values()]
    assert base + "/opendap/sst-daily" in urls
    assert base + "/opendap/sst-daily/sst_20200130.nc" in urls
    assert len(urls) == 13  # the aggregation and its 12 files (the excluded one is not there)
    assert requests.get(base + "/thredds/catalog/nope/catalog.xml", timeout=10).status_code == 404
