"""Access control judged by real clients: netCDF-C (ncdump, xarray's netCDF4 engine)
with a .netrc over DAP2 and DAP4, pydap with a requests session, xarray's Zarr reader
with a bearer token, pystac-client and OWSLib with headers; OIDC tokens signed by keys
this test generates and serves as a JWKS (good, expired, wrong audience, wrong issuer,
unknown key); restricted datasets absent from every listing for those not admitted.

The server serves the fixtures twice: public (ids = file names) and under
`restricted/` (alice and group ocean-team only), plus an aggregation `sst-daily` of
which one member is restricted (so the aggregation is too).
"""

import base64
import json
import os
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import bcrypt
import jwt
import numpy as np
import pytest
import requests
import xarray as xr
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from conftest import BIN, stop_server

PASSWORD = "wonder-land-7"
BOB_PASSWORD = "builder-9"
RESTRICTED = "restricted/sst_classic.nc"
SECRET_MEMBER = "sst-daily/sst_20200205.nc"


class Idp:
    """An OIDC provider as datagate sees one: a JWKS (and a discovery document) over
    plain HTTP, with keys the tests generate and may rotate."""

    def __init__(self):
        self.documents = {}
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                doc = idp.documents.get(self.path)
                body = json.dumps(doc).encode() if doc is not None else b"{}"
                self.send_response(200 if doc is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.issuer = self.base + "/realms/ocean"
        self.discovered_issuer = self.base + "/realms/discovered"
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.publish([("rsa-1", self.rsa, "RS256"), ("ec-1", self.ec, "ES256")])
        self.documents["/realms/discovered/.well-known/openid-configuration"] = {
            "issuer": self.discovered_issuer,
            "jwks_uri": self.base + "/realms/discovered/certs",
        }
        self.documents["/realms/discovered/certs"] = self.documents["/realms/ocean/certs"]

    @staticmethod
    def jwk(kid, key, alg):
        algo = jwt.algorithms.RSAAlgorithm if alg.startswith("RS") else jwt.algorithms.ECAlgorithm
        j = json.loads(algo.to_jwk(key.public_key()))
        j.update({"kid": kid, "alg": alg, "use": "sig"})
        return j

    def publish(self, keys):
        self.documents["/realms/ocean/certs"] = {"keys": [self.jwk(*k) for k in keys]}

    def token(self, key=None, kid="rsa-1", alg="RS256", issuer=None, **claims):
        now = int(time.time())
        body = {
            "iss": issuer or self.issuer,
            "aud": "datagate",
            "sub": "user-123",
            "iat": now,
            "exp": now + 300,
            "groups": ["/ocean-team"],
        }
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(body, key or self.rsa, algorithm=alg, headers={"kid": kid})

    def stop(self):
        self.httpd.shutdown()


def _start(config, log_path):
    """Starts datagate on a free port with its log in a file (to look for secrets)."""
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [BIN, "serve", "--config", str(config), "--bind", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        line = proc.stdout.readline()
        m = re.search(r"listening on (http://\S+?)/?$", line.strip())
        if m:
            return proc, m.group(1).rstrip("/")
        if not line and proc.poll() is not None:
            raise RuntimeError(f"datagate exited with {proc.returncode}: {open(log_path).read()}")
    proc.kill()
    raise RuntimeError("datagate did not start")


def _users(path):
    lines = [
        f"alice:{bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(5)).decode()}",
        # htpasswd -B writes $2y$: the same hash under Apache's prefix.
        "bob:" + bcrypt.hashpw(BOB_PASSWORD.encode(), bcrypt.gensalt(5)).decode().replace("$2b$", "$2y$", 1),
        f"carol:{bcrypt.hashpw(b'carol-pw', bcrypt.gensalt(5)).decode()}",
    ]
    path.write_text("\n".join(lines) + "\n")
    (path.parent / "groups").write_text("ocean-team: carol\nother: bob\n")


@pytest.fixture(scope="module")
def idp():
    p = Idp()
    yield p
    p.stop()


@pytest.fixture(scope="module")
def auth(fixtures_dir, tmp_path_factory, idp):
    """(base URL, server log path, work dir)."""
    work = tmp_path_factory.mktemp("auth")
    subprocess.run([BIN, "make-fixtures", "--daily-series", "12", str(work / "series")], check=True, capture_output=True)
    _users(work / "users.htpasswd")
    config = work / "datagate.toml"
    config.write_text(
        f"""
[auth]
users_file = "users.htpasswd"
groups_file = "groups"
max_failures = 1000

[[auth.oidc]]
issuer = "{idp.issuer}"
jwks_url = "{idp.base}/realms/ocean/certs"
audience = "datagate"
groups_claim = "groups"
leeway_secs = 5
jwks_min_refresh_secs = 1

[[auth.oidc]]
issuer = "{idp.discovered_issuer}"
audience = "datagate"

[[roots]]
path = "{fixtures_dir}"

[[roots]]
path = "{fixtures_dir}"
prefix = "restricted/"

[[collections]]
id = "sst-daily"
glob = "{work}/series/daily/sst_2020*.nc"
join_existing = "time"

[[access]]
datasets = "restricted/**"
allow = ["user:alice", "group:ocean-team"]

[[access]]
datasets = "{SECRET_MEMBER}"
allow = ["user:alice"]
"""
    )
    log = work / "server.log"
    proc, base = _start(config, log)
    yield base, log, work
    stop_server(proc)


ALICE = (("alice", PASSWORD),)


def get(url, who=None, **kw):
    kw.setdefault("timeout", 60)
    if isinstance(who, tuple):
        kw["auth"] = who
    elif isinstance(who, str):
        kw["headers"] = {**kw.get("headers", {}), "Authorization": f"Bearer {who}"}
    return requests.get(url, **kw)


# Every protocol's ways to read one restricted dataset (all valid requests: an
# admitted client gets data).
def restricted_urls():
    d = RESTRICTED
    wms_common = "SERVICE=WMS&VERSION=1.3.0&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=32&HEIGHT=16"
    return [
        ("dap2", f"/opendap/{d}.dds", "dods_error"),
        ("dap2", f"/opendap/{d}.das", "dods_error"),
        ("dap2", f"/opendap/{d}.dods?sst[0:1:0][0:1:1][0:1:1]", "dods_error"),
        ("dap2", f"/opendap/{d}.ascii?sst[0:1:0][0:1:1][0:1:1]", "dods_error"),
        ("dap2", f"/opendap/{d}.html", "dods_error"),
        ("dap2", f"/opendap/{d}.nc?sst", "dods_error"),
        ("dap4", f"/opendap/{d}.dmr.xml", "dap4"),
        ("dap4", f"/opendap/{d}.dap?dap4.ce=/sst", "dap4"),
        ("zarr", f"/zarr/{d}/.zmetadata", "json"),
        ("zarr", f"/zarr/{d}/zarr.json", "json"),
        ("zarr", f"/zarr/{d}/sst/.zarray", "json"),
        ("zarr", f"/zarr/{d}/refs.json", "json"),
        ("zarr", f"/zarr/{d}/lat/0", "json"),
        ("edr", f"/edr/collections/{d}", "json"),
        ("edr", f"/edr/collections/{d}/position?coords=POINT(5 5)&parameter-name=sst", "json"),
        ("wms", f"/wms?{wms_common}&REQUEST=GetMap&LAYERS={d}/sst&STYLES=&FORMAT=image/png", "xml"),
        ("wms", f"/wms?{wms_common}&REQUEST=GetFeatureInfo&LAYERS={d}/sst&QUERY_LAYERS={d}/sst&STYLES=&I=5&J=5&INFO_FORMAT=application/json", "xml"),
        ("wms", f"/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&LAYER={d}/sst&FORMAT=image/png", "xml"),
        ("wms", f"/wms/{d}?SERVICE=WMS&REQUEST=GetCapabilities", "xml"),
        ("wms", f"/wms/tiles/{d}/sst/0/0/0.png", "xml"),
        ("files", f"/files/{d}", "json"),
        ("notebook", f"/datasets/{d}/notebook.ipynb", "json"),
        # Percent-encoded separators reach the same dataset: checked the same.
        ("dap2", "/opendap/restricted%2Fsst_classic.nc.dds", "dods_error"),
        # An aggregation with one restricted member is restricted.
        ("dap2", "/opendap/sst-daily.dds", "dods_error"),
        ("zarr", "/zarr/sst-daily/.zmetadata", "json"),
        ("thredds", "/thredds/catalog/sst-daily/catalog.xml", None),
    ]


def assert_error_form(r, form):
    ctype = r.headers.get("content-type", "")
    if form == "dods_error":
        assert r.headers.get("content-description") == "dods_error", r.headers
        assert r.text.startswith("Error {"), r.text
    elif form == "dap4":
        assert "dap4.error+xml" in ctype, ctype
        assert "<Error" in r.text
    elif form == "xml":
        assert "xml" in ctype and "ServiceException" in r.text, (ctype, r.text[:300])
    elif form == "json":
        assert "json" in ctype, ctype
        r.json()


@pytest.mark.parametrize("proto,path,form", restricted_urls(), ids=lambda v: v if isinstance(v, str) and not v.startswith("/") else None)
def test_every_protocol_enforces_the_same_rule(auth, idp, proto, path, form):
    base, _, _ = auth
    url = base + path
    anon = get(url)
    assert anon.status_code == 401, (anon.status_code, anon.text[:300])
    challenges = anon.headers.get("www-authenticate", "")
    assert 'Basic realm="datagate"' in challenges and "Bearer" in challenges, challenges
    assert_error_form(anon, form)
    # Wrong password: 401 as well.
    assert get(url, ("alice", "not-it")).status_code == 401
    # Signed in, not admitted: 404, as if the dataset did not exist.
    bob = get(url, ("bob", BOB_PASSWORD))
    assert bob.status_code == 404, (bob.status_code, bob.text[:300])
    assert_error_form(bob, form)
    assert get(url, idp.token(groups=["other-team"])).status_code == 404
    # Admitted: the answer itself, private.
    ok = get(url, ALICE[0])
    assert ok.status_code == 200, (ok.status_code, ok.text[:300])
    cache = ok.headers.get("cache-control", "")
    assert "private" in cache and "public" not in cache, ok.headers
    if "sst-daily" not in path:
        # A group member with a bearer token is admitted to `restricted/` too (not to
        # the aggregation, whose restricted member admits alice only).
        assert get(url, idp.token()).status_code == 200
    else:
        assert get(url, idp.token()).status_code == 404


def test_denied_looks_like_missing(auth):
    base, _, _ = auth
    who = ("bob", BOB_PASSWORD)
    for hidden, missing in [
        (f"/opendap/{RESTRICTED}.dds", "/opendap/restricted/nothing.nc.dds"),
        (f"/edr/collections/{RESTRICTED}", "/edr/collections/restricted/nothing.nc"),
        (f"/zarr/{RESTRICTED}/.zmetadata", "/zarr/restricted/nothing.nc/.zmetadata"),
    ]:
        a, b = get(base + hidden, who), get(base + missing, who)
        assert a.status_code == b.status_code == 404
        assert a.headers["content-type"] == b.headers["content-type"]


def test_basic_users_groups_come_from_the_group_file(auth):
    base, _, _ = auth
    carol = ("carol", "carol-pw")
    assert get(base + f"/opendap/{RESTRICTED}.dds", carol).status_code == 200
    assert get(base + f"/opendap/{SECRET_MEMBER}.dds", carol).status_code == 404
    assert get(base + "/auth/whoami", carol).json()["groups"] == ["ocean-team"]


def test_public_data_stays_open_and_shared(auth):
    base, _, _ = auth
    r = get(base + "/opendap/sst_classic.nc.dds")
    assert r.status_code == 200
    assert "private" not in r.headers.get("cache-control", "")
    assert get(base + "/opendap/sst-daily/sst_20200130.nc.dds").status_code == 200
    # The restricted member alone is restricted.
    assert get(base + f"/opendap/{SECRET_MEMBER}.dds").status_code == 401


def _netcdf_home(tmp_path, user, password, port_host):
    """A HOME where netCDF-C finds credentials: ~/.netrc, named by ~/.ncrc (netCDF-C
    4.9 reads a netrc file only when HTTP.NETRC names it) and ~/.dodsrc."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    netrc = home / ".netrc"
    netrc.write_text(f"machine {port_host} login {user} password {password}\n")
    netrc.chmod(0o600)
    for rc in (".ncrc", ".dodsrc"):
        (home / rc).write_text(f"HTTP.NETRC={netrc}\n")
    return home


def _host(base):
    return base.split("://", 1)[1].split(":")[0]


@pytest.mark.parametrize("scheme", ["dap2", "dap4"])
def test_ncdump_with_netrc(auth, tmp_path, scheme):
    base, _, _ = auth
    home = _netcdf_home(tmp_path, "alice", PASSWORD, _host(base))
    url = base + f"/opendap/{RESTRICTED}"
    if scheme == "dap4":
        url = "dap4://" + url.split("://", 1)[1]
    env = {**os.environ, "HOME": str(home)}
    r = subprocess.run(["ncdump", "-v", "sst", url], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "sst =" in r.stdout and "dimensions:" in r.stdout
    # The rc file named by NCRCENV_RC instead of one in HOME (no HOME rc files).
    rc = tmp_path / "rc"
    rc.write_text(f"HTTP.NETRC={home / '.netrc'}\n")
    bare = tmp_path / "bare"
    bare.mkdir()
    r = subprocess.run(["ncdump", "-h", url], env={**os.environ, "HOME": str(bare), "NCRCENV_RC": str(rc)}, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "dimensions:" in r.stdout, r.stderr
    # Without credentials: a clean failure, no data.
    empty = tmp_path / "nohome"
    empty.mkdir()
    r = subprocess.run(["ncdump", "-h", url], env={**os.environ, "HOME": str(empty)}, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "dimensions:" not in r.stdout
    # Credentials of someone not admitted: no data either.
    (tmp_path / "b").mkdir()
    home_bob = _netcdf_home(tmp_path / "b", "bob", BOB_PASSWORD, _host(base))
    r = subprocess.run(["ncdump", "-h", url], env={**os.environ, "HOME": str(home_bob)}, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "dimensions:" not in r.stdout


XARRAY_READ = """
import sys, xarray as xr
ds = xr.open_dataset(sys.argv[1], engine="netcdf4", mask_and_scale=False)
print(float(ds["sst"][0, 2, 3].values), ds["sst"].shape)
"""


@pytest.mark.parametrize("scheme", ["dap2", "dap4"])
def test_xarray_netcdf4_with_netrc(auth, tmp_path, scheme):
    """In a child process: netCDF-C reads its rc files once, at start."""
    base, _, _ = auth
    home = _netcdf_home(tmp_path, "alice", PASSWORD, _host(base))
    url = base + f"/opendap/{RESTRICTED}"
    if scheme == "dap4":
        url = "dap4://" + url.split("://", 1)[1]
    run = lambda h: subprocess.run([sys.executable, "-c", XARRAY_READ, url], env={**os.environ, "HOME": str(h)}, capture_output=True, text=True, timeout=180)
    r = run(home)
    assert r.returncode == 0, r.stderr[-2000:]
    local = xr.open_dataset(auth_fixture_file(auth), engine="netcdf4", mask_and_scale=False)
    assert r.stdout.split()[0] == str(float(local["sst"][0, 2, 3].values))
    empty = tmp_path / "nohome"
    empty.mkdir()
    r = run(empty)
    assert r.returncode != 0
    assert "Traceback" in r.stderr  # an exception (OSError), not a crash


def auth_fixture_file(auth):
    _, _, work = auth
    cfg = (work / "datagate.toml").read_text()
    root = re.search(r'path = "([^"]+)"', cfg).group(1)
    return os.path.join(root, "sst_classic.nc")


@pytest.mark.parametrize("protocol", ["dap2", "dap4"])
def test_pydap_with_a_requests_session(auth, idp, protocol, tmp_path, monkeypatch):
    """pydap 3.5 keeps a session's bearer header (not its `auth`); Basic credentials
    reach it through requests' own netrc lookup (`NETRC` or ~/.netrc)."""
    from pydap.client import open_url

    base, _, _ = auth
    url = base + f"/opendap/{RESTRICTED}"
    local = xr.open_dataset(auth_fixture_file(auth), engine="netcdf4", mask_and_scale=False)
    want = local["sst"].values[0:1, 0:3, 0:4]

    def read(session):
        ds = open_url(url, session=session, protocol=protocol)
        return np.asarray(ds["sst"][0:1, 0:3, 0:4].data).reshape(want.shape)

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {idp.token()}"
    np.testing.assert_array_equal(read(session), want)
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine {_host(base)} login alice password {PASSWORD}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    np.testing.assert_array_equal(read(requests.Session()), want)
    monkeypatch.setenv("NETRC", str(tmp_path / "absent"))
    with pytest.raises(requests.HTTPError, match="401"):
        read(requests.Session())


def test_xarray_open_zarr_with_a_bearer_token(auth, idp):
    base, _, _ = auth
    url = base + f"/zarr/{RESTRICTED}"
    token = idp.token()
    z = xr.open_zarr(url, consolidated=True, storage_options={"headers": {"Authorization": f"Bearer {token}"}})
    local = xr.open_dataset(auth_fixture_file(auth), engine="netcdf4")
    np.testing.assert_array_equal(z["sst"].values, local["sst"].values)
    ec_token = idp.token(key=idp.ec, kid="ec-1", alg="ES256")
    z = xr.open_zarr(url, consolidated=True, storage_options={"headers": {"Authorization": f"Bearer {ec_token}"}})
    assert z["sst"].shape == local["sst"].shape
    with pytest.raises(Exception):
        xr.open_zarr(url, consolidated=True).load()


@pytest.mark.parametrize(
    "case",
    ["expired", "wrong_audience", "wrong_issuer", "unknown_kid", "bad_signature", "not_yet_valid", "no_exp", "hs256", "garbage"],
)
def test_bad_tokens_are_401(auth, idp, case):
    base, _, _ = auth
    now = int(time.time())
    token = {
        "expired": lambda: idp.token(exp=now - 120, iat=now - 600),
        "wrong_audience": lambda: idp.token(aud="someone-else"),
        "wrong_issuer": lambda: idp.token(issuer=idp.base + "/realms/elsewhere"),
        "unknown_kid": lambda: idp.token(key=idp.stranger, kid="nobody-knows"),
        "bad_signature": lambda: idp.token(key=idp.stranger, kid="rsa-1"),
        "not_yet_valid": lambda: idp.token(nbf=now + 600),
        "no_exp": lambda: idp.token(exp=None),
        "hs256": lambda: jwt.encode({"iss": idp.issuer, "aud": "datagate", "sub": "x", "exp": now + 300}, "secret", algorithm="HS256", headers={"kid": "rsa-1"}),
        "garbage": lambda: "not.a.token",
    }[case]()
    for path in (f"/opendap/{RESTRICTED}.dds", "/opendap/sst_classic.nc.dds"):
        r = get(base + path, token)
        assert r.status_code == 401, (case, path, r.status_code, r.text[:200])
        assert 'error="invalid_token"' in r.headers.get("www-authenticate", "")
        assert token not in r.text


def test_small_clock_skew_is_tolerated(auth, idp):
    base, _, _ = auth
    token = idp.token(exp=int(time.time()) - 2)
    assert get(base + f"/opendap/{RESTRICTED}.dds", token).status_code == 200


def test_discovery_document_gives_the_keys(auth, idp):
    base, _, _ = auth
    token = idp.token(issuer=idp.discovered_issuer)
    assert get(base + f"/opendap/{RESTRICTED}.dds", token).status_code == 200


def test_rotated_key_is_fetched_on_unknown_kid(auth, idp):
    base, _, _ = auth
    token = idp.token(key=idp.rotated, kid="rsa-2")
    url = base + f"/opendap/{RESTRICTED}.dds"
    assert get(url, token).status_code == 401
    idp.publish([("rsa-1", idp.rsa, "RS256"), ("ec-1", idp.ec, "ES256"), ("rsa-2", idp.rotated, "RS256")])
    time.sleep(1.2)  # jwks_min_refresh_secs
    assert get(url, token).status_code == 200


# Listings: restricted ids (and the aggregation with a restricted member) do not exist
# for anonymous users; alice sees them.
# (path, what alice sees there that others do not)
LISTINGS = [
    ("/datasets", RESTRICTED),
    ("/", RESTRICTED),
    ("/?f=json", RESTRICTED),
    ("/stac", "collections/sst-daily"),
    ("/stac/collections", '"sst-daily"'),
    ("/stac/search?limit=1000", RESTRICTED),
    ("/stac/collections/datasets/items?limit=1000", RESTRICTED),
    ("/stac/collections/sst-daily/items?limit=1000", SECRET_MEMBER),
    ("/thredds/catalog.xml", RESTRICTED),
    ("/wms?SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.3.0", RESTRICTED),
    ("/edr/collections", RESTRICTED),
    ("/edr/api", None),
    ("/intake/catalog.yaml", "restricted_sst_classic_nc"),
]


@pytest.mark.parametrize("path,marker", LISTINGS)
def test_listings_hide_restricted_datasets(auth, path, marker):
    base, _, _ = auth

    def hidden(text):
        return all(s not in text for s in ("restricted/", "restricted%2F", "restricted_", SECRET_MEMBER, "sst-daily\"", "sst-daily/catalog", "  sst_daily:", "sst_daily_zarr:"))

    # A listing inside a hidden collection does not exist.
    status = 404 if "collections/sst-daily" in path else 200
    anon = get(base + path)
    assert anon.status_code == status
    assert hidden(anon.text), path
    bob = get(base + path, ("bob", BOB_PASSWORD))
    assert bob.status_code == status and hidden(bob.text), path
    assert "private" in bob.headers.get("cache-control", "")
    alice = get(base + path, ALICE[0])
    assert alice.status_code == 200
    if marker:
        assert marker in alice.text, path
    assert "private" in alice.headers.get("cache-control", "")
    # Shared caches inside datagate: anonymous still sees nothing after alice asked.
    assert hidden(get(base + path).text)


def test_aggregation_hidden_from_listings(auth):
    base, _, _ = auth
    ids = [d["id"] for d in get(base + "/datasets").json()["datasets"]]
    assert "sst-daily" not in ids and "sst-daily/sst_20200130.nc" in ids
    assert not any(i.startswith("restricted/") for i in ids)
    ids = [d["id"] for d in get(base + "/datasets", ALICE[0]).json()["datasets"]]
    assert "sst-daily" in ids and SECRET_MEMBER in ids and RESTRICTED in ids
    from siphon.catalog import TDSCatalog

    cat = TDSCatalog(base + "/thredds/catalog.xml")
    assert "sst-daily" not in " ".join(cat.catalog_refs)
    assert not any(d.startswith("restricted/") for d in cat.datasets)


def test_pystac_client_with_headers(auth, idp):
    from pystac_client import Client

    base, _, _ = auth
    anon = Client.open(base + "/stac")
    anon_collections = sorted(c.id for c in anon.get_collections())
    assert "sst-daily" not in anon_collections
    anon_items = [i.id for i in anon.search(max_items=1000).items()]
    assert anon_items and not any(i.startswith("restricted/") for i in anon_items)
    admitted = Client.open(base + "/stac", headers={"Authorization": f"Bearer {idp.token(sub='alice-oidc')}"})
    items = [i.id for i in admitted.search(max_items=1000).items()]
    assert RESTRICTED in items
    # The group admits to restricted/ but not to the member only alice may read.
    assert "sst-daily" not in sorted(c.id for c in admitted.get_collections())
    basic = "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    alice = Client.open(base + "/stac", headers={"Authorization": basic})
    assert "sst-daily" in sorted(c.id for c in alice.get_collections())


def test_owslib_with_headers_and_auth(auth, idp):
    from owslib.util import Authentication
    from owslib.wms import WebMapService

    base, _, _ = auth
    anon = WebMapService(base + "/wms", version="1.3.0")
    assert not any(n.startswith("restricted/") for n in anon.contents)
    token = idp.token()
    wms = WebMapService(base + "/wms", version="1.3.0", headers={"Authorization": f"Bearer {token}"})
    layer = f"{RESTRICTED}/sst"
    assert layer in wms.contents
    img = wms.getmap(layers=[layer], styles=[""], srs="CRS:84", bbox=(-180, -90, 180, 90), size=(32, 16), format="image/png")
    assert img.read()[:8] == b"\x89PNG\r\n\x1a\n"
    alice = WebMapService(base + "/wms", version="1.3.0", auth=Authentication(username="alice", password=PASSWORD))
    assert layer in alice.contents


def test_credentials_never_logged(auth, idp):
    base, log, _ = auth
    token = idp.token()
    get(base + f"/opendap/{RESTRICTED}.dds", token)
    get(base + f"/opendap/{RESTRICTED}.dds", ("alice", PASSWORD))
    get(base + f"/opendap/{RESTRICTED}.dds", ("alice", "typo-password"))
    time.sleep(0.5)
    text = log.read_text()
    assert "opendap" in text  # the log is the server's
    for secret in (PASSWORD, "typo-password", BOB_PASSWORD, token, token.split(".")[1]):
        assert secret not in text
    metrics = get(base + "/metrics").text
    assert PASSWORD not in metrics and token not in metrics


def test_failed_sign_ins_are_limited_per_address(fixtures_dir, tmp_path):
    _users(tmp_path / "users.htpasswd")
    config = tmp_path / "datagate.toml"
    config.write_text(
        f"""
[auth]
users_file = "users.htpasswd"
max_failures = 3
[[roots]]
path = "{fixtures_dir}"
prefix = "restricted/"
[[access]]
datasets = "restricted/**"
allow = ["authenticated"]
"""
    )
    proc, base = _start(config, tmp_path / "log")
    try:
        url = base + f"/opendap/{RESTRICTED}.dds"
        assert get(url, ("alice", PASSWORD)).status_code == 200
        for _ in range(3):
            assert get(url, ("alice", "guess")).status_code == 401
        r = get(url, ("alice", "guess"))
        assert r.status_code == 429 and "Retry-After" in r.headers
        assert r.text.startswith("Error {")
        # Even the right password waits: guessing stops for the window.
        assert get(url, ("alice", PASSWORD)).status_code == 429
        # Anonymous public requests are not affected (no credentials to check).
        assert get(base + "/healthz").status_code == 200
    finally:
        stop_server(proc)


def test_browser_sign_in(auth):
    base, _, _ = auth
    r = get(base + "/auth/login?next=/datasets", allow_redirects=False)
    assert r.status_code == 401 and 'Basic realm="datagate"' in r.headers["www-authenticate"]
    r = get(base + "/auth/login?next=/datasets", ALICE[0], allow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/datasets"
    # Never on to another site.
    for evil in ("//evil.example/", "https://evil.example/", "/\t/evil.example", "/\\evil.example"):
        r = get(base + "/auth/login", ALICE[0], params={"next": evil}, allow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/", evil
    assert get(base + "/auth/whoami").json() == {"authenticated": False}
    me = get(base + "/auth/whoami", ALICE[0]).json()
    assert me == {"authenticated": True, "user": "alice", "groups": []}


def test_web_pages_offer_sign_in(auth):
    base, _, _ = auth
    html = {"Accept": "text/html"}
    anon = requests.get(base + "/", headers=html, timeout=30)
    assert anon.status_code == 200 and "/auth/login?next=/" in anon.text
    alice = requests.get(base + "/", headers=html, auth=ALICE[0], timeout=30)
    assert "Signed in as alice" in alice.text and "/auth/login" not in alice.text
    # The link leads to the Basic prompt, and back once signed in.
    r = requests.get(base + "/auth/login?next=/", timeout=30, allow_redirects=False)
    assert r.status_code == 401 and "Basic" in r.headers["www-authenticate"]
    r = requests.get(base + "/auth/login?next=/", auth=ALICE[0], timeout=30, allow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
