"""DAP4 user-defined types (docs/dap4.md "User-defined types"): enum, compound (nested,
with an array field), vlen of int and of float, and opaque variables in NetCDF-4 files
written here (netCDF4-python; the opaque one by ncgen, as netCDF4-python cannot write
opaque types) must read over DAP4 as locally:

- netCDF4-python (netCDF-C 4.10) on `dap4://…#translate=nc4`: the same kinds of
  types, values and attributes as netCDF4-python reading the file;
- ncdump (Debian's netCDF-C 4.9.0) over the dap4 URL: the same data as `ncdump` of
  the file (except what 4.9.0 reads wrongly: see the doc);
- pydap (`protocol="dap4"`): the atomic variables and the structure's fields;
- the `.dap` bytes themselves (counts, field order, checksums), for what no client
  here reads fully (opaque, pydap's sequences).

Other protocols must still serve the atomic variables of such a file.
"""

import re
import struct
import subprocess
import zlib

import netCDF4
import numpy as np
import pytest
import requests
from conftest import BACKENDS, start_server, stop_server

CDL_OPAQUE = """netcdf opaque {
types:
  opaque(5) blob_t ;
dimensions:
  n = 3 ;
variables:
  blob_t blob(n) ;
    blob:comment = "five bytes each" ;
  int count(n) ;
data:
  blob = 0X0102030405, 0XAABBCCDDEE, 0X00FF00FF00 ;
  count = 7, 9, 11 ;
}
"""

POS = np.dtype([("lat", np.float32), ("lon", np.float32)])
# Padded in memory (a double after 12 bytes): netCDF-C must not mistake the C layout
# for the wire layout.
OBS = np.dtype([("id", np.int32), ("pos", POS), ("temp", np.float64)])
# No padding, no double: what netCDF-C 4.9.0 (Debian's ncdump) reads right.
STATION = np.dtype([("id", np.int32), ("lat", np.float32), ("lon", np.float32)])
PROFILE = np.dtype([("id", np.int16), ("levels", np.float32, (3,))])
HEADER = np.dtype([("version", np.int32), ("created", np.float64)])


def write_files(d):
    with netCDF4.Dataset(d / "user_types.nc", "w") as ds:
        ds.title = "user-defined types"
        ds.createDimension("x", 3)
        ds.createDimension("t", 4)
        cloud_t = ds.createEnumType(np.uint8, "cloud_t", {"clear": 0, "cumulus": 1, "stratus": 2, "missing": 255})
        cloud = ds.createVariable("cloud", cloud_t, ("t",), fill_value=255)
        cloud.long_name = "cloud type"
        cloud[:] = np.array([0, 1, 2, 255], np.uint8)

        ds.createCompoundType(POS, "pos_t")
        obs_t = ds.createCompoundType(OBS, "obs_t")
        obs = ds.createVariable("obs", obs_t, ("x",))
        obs.units = "mixed"
        data = np.zeros(3, OBS)
        data["id"] = [10, 20, 30]
        data["pos"]["lat"] = [1.5, -2.5, 3.25]
        data["pos"]["lon"] = [100.0, 110.5, -120.25]
        data["temp"] = [280.5, 281.25, 282.125]
        obs[:] = data

        station_t = ds.createCompoundType(STATION, "station_t")
        st = ds.createVariable("station", station_t, ("x",))
        sdata = np.zeros(3, STATION)
        sdata["id"] = [1, 2, 3]
        sdata["lat"] = [50.5, 51.25, -33.75]
        sdata["lon"] = [7.5, -0.125, 151.0]
        st[:] = sdata

        profile_t = ds.createCompoundType(PROFILE, "profile_t")
        pr = ds.createVariable("profile", profile_t, ("x",))
        pdata = np.zeros(3, PROFILE)
        pdata["id"] = [5, 6, 7]
        pdata["levels"] = np.arange(9, dtype=np.float32).reshape(3, 3) + 0.5
        pr[:] = pdata

        header_t = ds.createCompoundType(HEADER, "header_t")
        hd = ds.createVariable("header", header_t)
        hd.comment = "a scalar structure"
        hd[...] = np.array((3, 19000.5), HEADER)

        vint_t = ds.createVLType(np.int32, "vint_t")
        ri = ds.createVariable("ragged_int", vint_t, ("x",))
        ri.comment = "vlen of int"
        arr = np.empty(3, object)
        arr[0] = np.array([1, 2, 3], np.int32)
        arr[1] = np.array([], np.int32)
        arr[2] = np.array([-7], np.int32)
        ri[:] = arr

        vfloat_t = ds.createVLType(np.float32, "vfloat_t")
        rf = ds.createVariable("ragged_float", vfloat_t, ("t",))
        arr = np.empty(4, object)
        for i in range(4):
            arr[i] = (np.arange(i + 1, dtype=np.float32) - 0.25) * 2
        rf[:] = arr

        temp = ds.createVariable("temp", np.float32, ("t", "x"))
        temp.units = "K"
        temp[:] = np.arange(12, dtype=np.float32).reshape(4, 3) + 270
    (d / "opaque.cdl").write_text(CDL_OPAQUE)
    subprocess.run(["ncgen", "-4", "-o", str(d / "opaque.nc"), str(d / "opaque.cdl")], check=True)
    (d / "opaque.cdl").unlink()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    d = tmp_path_factory.mktemp("user_types")
    write_files(d)
    proc, base = start_server([str(d)])
    yield base, d
    stop_server(proc)


def dap4(base, name, fragment="translate=nc4"):
    url = f"dap4://{base.removeprefix('http://')}/opendap/{name}"
    return f"{url}#{fragment}" if fragment else url


def kind(t):
    """The netCDF-4 type class of a netCDF4-python variable's datatype, and what
    identifies it besides its name (netCDF-C names types after variables over DAP4)."""
    if isinstance(t, netCDF4.EnumType):
        return ("enum", t.dtype, t.enum_dict)
    if isinstance(t, netCDF4.CompoundType):
        return ("compound", t.dtype.names, [str(t.dtype.fields[n][0]) for n in t.dtype.names])
    if isinstance(t, netCDF4.VLType):
        return ("vlen", t.dtype)
    return ("atomic", t)


def same_values(a, b):
    if a.dtype == object:
        assert len(a) == len(b)
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    else:
        np.testing.assert_array_equal(a, b)


# netCDF-C reads one value of an array field of a structure and then loses its place
# (libdap4/d4data.c fillstruct moves one instance per field whatever the field's
# dimensions, while d4fix.c counts them all): see docs/dap4.md; the bytes are checked
# below.
ARRAY_FIELD = pytest.param(
    "profile", marks=pytest.mark.xfail(strict=True, reason="netCDF-C: array fields of structures")
)
NC4_VARS = ["cloud", "obs", "station", ARRAY_FIELD, "header", "temp"]


@pytest.mark.parametrize("name", NC4_VARS)
def test_netcdf4_python_reads_them_as_locally(served, name):
    base, d = served
    with netCDF4.Dataset(d / "user_types.nc") as local, netCDF4.Dataset(dap4(base, "user_types.nc")) as remote:
        lv, rv = local[name], remote[name]
        assert rv.dimensions == lv.dimensions
        lv.set_auto_mask(False)
        rv.set_auto_mask(False)
        assert kind(rv.datatype) == kind(lv.datatype)
        same_values(rv[...], lv[...])
        if lv.shape:
            # A subset: the DAP4 constraint on the variable's dimension.
            same_values(rv[1:3], lv[1:3])
        attrs = {k: lv.getncattr(k) for k in lv.ncattrs()}
        assert {k: rv.getncattr(k) for k in rv.ncattrs()} == attrs
        assert remote.title == local.title


def test_netcdf4_python_reads_opaque_sizes_with_translate(served):
    """netCDF-C takes an Opaque's size from `_edu.ucar.opaque.size` only with
    `#translate=nc4`; without it every opaque is 16 bytes (its default)."""
    base, _ = served
    with netCDF4.Dataset(dap4(base, "opaque.nc")) as remote:
        np.testing.assert_array_equal(remote["count"][:], [7, 9, 11])
    out = subprocess.run(["ncdump", "-h", dap4(base, "opaque.nc", "")], check=True, capture_output=True, text=True)
    assert "opaque(16)" in out.stdout


def test_netcdf4_python_skips_vlens_and_reads_the_rest(served):
    """netCDF-C gives a DAP4 Sequence as a vlen of a one-member compound, which
    netCDF4-python does not read (it warns and leaves the variable out); the marker
    that would make netCDF-C build a plain vlen crashes it (docs/dap4.md)."""
    base, _ = served
    with pytest.warns(UserWarning, match="unsupported VLEN"):
        remote = netCDF4.Dataset(dap4(base, "user_types.nc"))
    with remote:
        assert "ragged_int" not in remote.variables
        assert remote["temp"].shape == (4, 3)


def ncdump_data(*args):
    out = subprocess.run(["ncdump", *args], check=True, capture_output=True, text=True).stdout
    return out[out.index("data:") :]


def plain_vlens(text):
    """ncdump's vlen-of-one-member-compound values (`{{1}, {2}}`) as the plain vlen
    values they are (`{1, 2}`)."""
    return re.sub(r"\{([^{},]+)\}", r"\1", text).split()


# `obs` is left out for netCDF-C 4.9.0: it steps through an array of structures by the
# C struct size, padding included (fixed in 4.10: d4varx.c uses the DAP size).
@pytest.mark.parametrize("name", ["cloud", "station", "ragged_int", "ragged_float", "temp"])
def test_ncdump_prints_them_as_locally(served, name):
    base, d = served
    remote = ncdump_data("-v", name, dap4(base, "user_types.nc"))
    assert plain_vlens(remote) == ncdump_data("-v", name, str(d / "user_types.nc")).split()


def test_ncdump_reads_opaque_as_locally(served):
    base, d = served
    remote = subprocess.run(["ncdump", dap4(base, "opaque.nc")], check=True, capture_output=True, text=True).stdout
    assert "opaque(5)" in remote
    assert ncdump_data(dap4(base, "opaque.nc")) == ncdump_data(str(d / "opaque.nc"))


def dechunk(body):
    """DAP4 chunks: the DMR, and the data (little-endian, as the flags say)."""
    chunks, i = [], 0
    while i < len(body):
        (word,) = struct.unpack(">I", body[i : i + 4])
        flags, n = word >> 24, word & 0xFFFFFF
        chunks.append(body[i + 4 : i + 4 + n])
        assert not flags & 2, body[i + 4 : i + 4 + n]
        i += 4 + n
        if flags & 1:
            break
    return chunks[0].decode(), b"".join(chunks[1:])


def test_dap_bytes_of_opaque_sequences_and_structures(served):
    base, _ = served
    r = requests.get(
        f"{base}/opendap/opaque.nc.dap", params={"dap4.ce": "/blob[1:2]", "dap4.checksum": "true"}, timeout=30
    )
    r.raise_for_status()
    dmr, data = dechunk(r.content)
    assert '<Opaque name="blob" _edu.ucar.opaque.size="5">' in dmr
    values = data[:-4]
    assert values == struct.pack("<Q", 5) + bytes.fromhex("AABBCCDDEE") + struct.pack("<Q", 5) + bytes.fromhex("00FF00FF00")
    assert struct.unpack("<I", data[-4:])[0] == zlib.crc32(values)

    r = requests.get(f"{base}/opendap/user_types.nc.dap", params={"dap4.ce": "/ragged_int;/obs[2]"}, timeout=30)
    r.raise_for_status()
    dmr, data = dechunk(r.content)
    assert '<Sequence name="ragged_int">' in dmr
    assert '<Structure name="obs">' in dmr
    # The DMR's order (the file's): the structure, then the sequence.
    obs = struct.pack("<i", 30) + struct.pack("<ff", 3.25, -120.25) + struct.pack("<d", 282.125)
    ragged = struct.pack("<Qiii", 3, 1, 2, 3) + struct.pack("<Q", 0) + struct.pack("<Qi", 1, -7)
    assert data == obs + ragged


def test_dmr_declares_the_enumeration(served):
    base, _ = served
    dmr = requests.get(f"{base}/opendap/user_types.nc.dmr", timeout=30).text
    assert '<Enumeration name="cloud_t" basetype="UInt8">' in dmr
    assert '<EnumConst name="missing" value="255"/>' in dmr
    assert '<Enum name="cloud" enum="/cloud_t">' in dmr
    assert '<Float32 name="levels">' in dmr and '<Dim size="3"/>' in dmr


def test_bad_constraints_on_them_are_400(served):
    base, _ = served
    for ce in ["/obs[5]", "/ragged_int[0][0]", "/obs.nope"]:
        r = requests.get(f"{base}/opendap/user_types.nc.dap", params={"dap4.ce": ce}, timeout=30)
        assert r.status_code == 400, (ce, r.status_code)


def test_pydap_reads_the_dataset(served):
    from pydap.client import open_url

    base, d = served
    ds = open_url(f"{base}/opendap/user_types.nc", protocol="dap4")
    with netCDF4.Dataset(d / "user_types.nc") as local:
        np.testing.assert_array_equal(np.asarray(ds["temp"][:].data), local["temp"][:])
        # pydap 3.5 lists a structure's fields as variables `struct.field` and asks
        # for each with `dap4.ce=/struct.field`.
        header = local["header"][...]
        for field in ["version", "created"]:
            assert ds[f"header.{field}"][:].data == header[field]
        # It gives a field the field's own shape, not the structure's too: of an array
        # of structures it reads the first element (docs/dap4.md).
        for var, fields in [("station", ["id", "lat", "lon"]), ("obs", ["id", "temp"])]:
            first = local[var][0]
            for field in fields:
                assert ds[f"{var}.{field}"][:].data == first[field]


def test_other_protocols_serve_the_atomic_variables(served):
    base, _ = served
    dds = requests.get(f"{base}/opendap/user_types.nc.dds", timeout=30)
    dds.raise_for_status()
    assert "temp[t = 4][x = 3]" in dds.text.replace("Float32 ", "")
    assert "obs" not in dds.text
    dods = requests.get(f"{base}/opendap/user_types.nc.dods?temp", timeout=30)
    dods.raise_for_status()
    zmeta = requests.get(f"{base}/zarr/user_types.nc/.zmetadata", timeout=30)
    zmeta.raise_for_status()
    keys = zmeta.json()["metadata"]
    assert "temp/.zarray" in keys and "obs/.zarray" not in keys
    assert requests.get(f"{base}/opendap/opaque.nc.dds", timeout=30).status_code == 200


def test_dap_bytes_of_structure_fields_and_array_fields(served):
    base, _ = served
    r = requests.get(f"{base}/opendap/user_types.nc.dap", params={"dap4.ce": "/obs.temp;/obs.id"}, timeout=30)
    r.raise_for_status()
    dmr, data = dechunk(r.content)
    structure = dmr[dmr.index('<Structure name="obs">') : dmr.index("</Structure>")]
    assert '<Int32 name="id"' in structure and '<Float64 name="temp"' in structure
    assert "pos" not in structure
    want = b"".join(struct.pack("<id", i, t) for i, t in [(10, 280.5), (20, 281.25), (30, 282.125)])
    assert data == want

    r = requests.get(f"{base}/opendap/user_types.nc.dap", params={"dap4.ce": "/profile[2]"}, timeout=30)
    r.raise_for_status()
    _, data = dechunk(r.content)
    assert data == struct.pack("<h3f", 7, 6.5, 7.5, 8.5)


@pytest.mark.skipif("s3" not in BACKENDS, reason="DATAGATE_BACKENDS leaves S3 out")
def test_from_object_storage_as_from_disk(served, tmp_path):
    """From S3 the pure-Rust reader hands the file to netCDF-C (on a file-cache copy):
    the same DMR and bytes as from local disk."""
    from s3server import MotoServer

    base, d = served
    moto = MotoServer()
    try:
        moto.upload_dir(d, "user")
        config = tmp_path / "datagate.toml"
        config.write_text(moto.config_toml(tmp_path / "file-cache", ["s3://datagate-test/user/"]))
        proc, s3_base = start_server(["--config", str(config)])
        try:
            for name, ce in [("user_types.nc", "/obs;/ragged_int;/cloud;/profile[1]"), ("opaque.nc", "")]:
                params = {"dap4.ce": ce, "dap4.checksum": "true"}
                local = requests.get(f"{base}/opendap/{name}.dap", params=params, timeout=30)
                remote = requests.get(f"{s3_base}/opendap/{name}.dap", params=params, timeout=30)
                assert remote.status_code == local.status_code == 200
                assert dechunk(remote.content) == dechunk(local.content)
        finally:
            stop_server(proc)
    finally:
        moto.stop()
