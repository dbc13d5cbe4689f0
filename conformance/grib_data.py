"""GRIB test files for test_grib.py, written by the ecCodes Python module from the samples
bundled with ecCodes (nothing downloaded), and cfgrib's reads of them, pickled.

Run as a script in a process of its own (`python grib_data.py DIR`): ecCodes' Python
module and netCDF4's bundled libraries corrupt each other's heap at interpreter exit
("double free or corruption"), which would turn a passing pytest run into an abort.
The script leaves with os._exit once its output is written.
"""

import os
import pickle
import sys
from pathlib import Path

import numpy as np

import eccodes

GRID = dict(
    Ni=8, Nj=5,
    latitudeOfFirstGridPointInDegrees=60.0, longitudeOfFirstGridPointInDegrees=-10.0,
    latitudeOfLastGridPointInDegrees=40.0, longitudeOfLastGridPointInDegrees=25.0,
    iDirectionIncrementInDegrees=5.0, jDirectionIncrementInDegrees=5.0,
)


def write(path, fields, sample="regular_ll_pl_grib2"):
    with open(path, "wb") as f:
        for keys, values in fields:
            h = eccodes.codes_grib_new_from_samples(sample)
            try:
                for k, v in keys.items():
                    eccodes.codes_set(h, k, v)
                eccodes.codes_set_values(h, values)
                eccodes.codes_write(h, f)
            finally:
                eccodes.codes_release(h)


def field(short_name, level_type, level, date=20240101, step=0, **grid):
    return {**(grid or GRID), "shortName": short_name, "dataDate": date, "dataTime": 1200,
            "stepRange": str(step), "typeOfLevel": level_type, "level": level}


def make_files(d):
    # One hypercube: t and u on 3 pressure levels, 2 dates, 2 steps.
    fields = []
    for v, name in enumerate(["t", "u"]):
        for day, date in enumerate([20240101, 20240102]):
            for step in [0, 6]:
                for level in [850, 500, 250]:
                    values = np.arange(40.0) + 1000 * v + 100 * day + 10 * step + level / 10
                    fields.append((field(name, "isobaricInhPa", level, date, step), values))
    write(d / "pl.grib2", fields)
    # No single hypercube: t on pressure levels and at the surface, sp, 2t at 2 m.
    fields = []
    for step in [0, 6]:
        for level in [850, 500]:
            fields.append((field("t", "isobaricInhPa", level, step=step), np.full(40, 200.0 + level / 10 + step)))
        fields.append((field("t", "surface", 0, step=step), np.linspace(270, 290, 40) + step))
        fields.append((field("sp", "surface", 0, step=step), np.linspace(9e4, 1.01e5, 40)))
        fields.append((field("2t", "heightAboveGround", 2, step=step), np.linspace(260, 280, 40) - step))
    write(d / "mixed.grib2", fields)
    # GRIB 1 on a 6 x 4 grid.
    grid1 = dict(Ni=6, Nj=4, latitudeOfFirstGridPointInDegrees=45.0, longitudeOfFirstGridPointInDegrees=0.0,
                 latitudeOfLastGridPointInDegrees=30.0, longitudeOfLastGridPointInDegrees=25.0,
                 iDirectionIncrementInDegrees=5.0, jDirectionIncrementInDegrees=5.0)
    fields = [(field("z", "isobaricInhPa", level, date, **grid1), np.arange(24.0) * 10 + level + date % 10)
              for date in [20240101, 20240102] for level in [500, 850]]
    write(d / "z.grib1", fields, sample="GRIB1")
    # A regular Gaussian grid (N32).
    fields = [({"shortName": "2t", "typeOfLevel": "heightAboveGround", "level": 2, "dataDate": 20240101,
                "dataTime": 0, "stepRange": str(step)}, 250 + np.sin(np.arange(8192) / 100.0) * 30 + step)
              for step in [0, 12]]
    write(d / "gauss.grib2", fields, sample="regular_gg_sfc_grib2")
    # An ensemble: `number` as a dimension (individual members: product template 4.1,
    # set first as it defines the `number` key).
    fields = [({"productDefinitionTemplateNumber": 1, **field("t", "isobaricInhPa", 500, 20240101, step),
                "number": number, "numberOfForecastsInEnsemble": 3}, np.arange(40.0) + 100 * number + step)
              for number in [0, 1, 2] for step in [0, 6]]
    write(d / "ens.grib2", fields)
    # Grids beyond the regular ones, from ecCodes' samples: reduced Gaussian (one
    # `values` dimension) and polar stereographic (2-D latitude/longitude on y, x).
    for sample, name in [("reduced_gg_pl_32_grib2", "reduced_gg.grib2"),
                         ("polar_stereographic_pl_grib2", "polar.grib2")]:
        h = eccodes.codes_grib_new_from_samples(sample)
        try:
            n = eccodes.codes_get(h, "numberOfPoints")
            eccodes.codes_set_values(h, 250 + np.cos(np.arange(n) / 50.0) * 20)
            with open(d / name, "wb") as f:
                eccodes.codes_write(h, f)
        finally:
            eccodes.codes_release(h)
    # A daily series, one analysis per file (time, step and valid_time are scalars in
    # each): aggregated along a new `time` dimension from each file's own time.
    (d / "series").mkdir(exist_ok=True)
    for day in range(3):
        date = 20240101 + day
        values = np.linspace(260, 280, 40) + day
        write(d / "series" / f"an_{date}.grib2", [(field("2t", "heightAboveGround", 2, date, step=6), values)])
    # Files that split (pressure levels and surface fields), one date each: their
    # `surface` parts aggregate along time.
    (d / "split_series").mkdir(exist_ok=True)
    for day in range(2):
        date = 20240101 + day
        fields = [(field("t", "isobaricInhPa", 850, date), np.full(40, 250.0 + day)),
                  (field("sp", "surface", 0, date), np.linspace(9e4, 1.01e5, 40) + day),
                  (field("t", "surface", 0, date), np.linspace(270, 290, 40) + day)]
        write(d / "split_series" / f"fc_{date}.grib2", fields)
    # Multi-field GRIB 2 messages (sections 4-7 repeated): one message per step, each
    # holding 10 m u and v wind, as ecCodes' grib_multi_append writes them.
    with open(d / "wind.grib2", "wb") as f:
        for step in [0, 6]:
            multi = eccodes.codes_grib_multi_new()
            handles = []
            try:
                for k, name in enumerate(["10u", "10v"]):
                    h = eccodes.codes_grib_new_from_samples("regular_ll_sfc_grib2")
                    handles.append(h)
                    for key, v in field(name, "heightAboveGround", 10, step=step).items():
                        eccodes.codes_set(h, key, v)
                    eccodes.codes_set_values(h, np.arange(40.0) * (1 + k) + 100 * k + step)
                    eccodes.codes_grib_multi_append(h, 4, multi)
                eccodes.codes_grib_multi_write(multi, f)
            finally:
                for h in handles:
                    eccodes.codes_release(h)
                eccodes.codes_grib_multi_release(multi)
    # Damaged: the one-hypercube file cut in its last message.
    good = (d / "pl.grib2").read_bytes()
    (d / "damaged.grib2").write_bytes(good[:-30])



def cfgrib_reads(d):
    """What cfgrib makes of each file: one dataset, or the list `open_datasets` gives."""
    import cfgrib
    import xarray as xr

    kw = {"indexpath": ""}
    out = {}
    for name in ["pl.grib2", "z.grib1", "gauss.grib2", "reduced_gg.grib2", "polar.grib2", "ens.grib2",
                 "wind.grib2"]:
        out[name] = xr.open_dataset(d / name, engine="cfgrib", backend_kwargs=kw).load()
    out["mixed.grib2"] = [ds.load() for ds in cfgrib.open_datasets(str(d / "mixed.grib2"), backend_kwargs=kw)]
    series = sorted((d / "series").glob("an_*.grib2"))
    out["series"] = xr.open_mfdataset(series, engine="cfgrib", combine="nested", concat_dim="time",
                                      backend_kwargs=kw).load()
    split = sorted((d / "split_series").glob("fc_*.grib2"))
    out["split_series"] = xr.open_mfdataset(
        split, engine="cfgrib", combine="nested", concat_dim="time",
        backend_kwargs={**kw, "filter_by_keys": {"typeOfLevel": "surface"}}).load()
    return out


if __name__ == "__main__":
    d = Path(sys.argv[1])
    make_files(d)
    with open(d / ".cfgrib.pickle", "wb") as f:
        pickle.dump(cfgrib_reads(d), f)
    sys.stdout.flush()
    os._exit(0)
