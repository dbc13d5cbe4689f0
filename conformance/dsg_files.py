"""CF discrete sampling geometry files for the DSG suite, written with netCDF4-python:
one per featureType and layout of CF appendix H, plus malformed ones."""

import numpy as np
from netCDF4 import Dataset, stringtochar

STATIONS = ["ST-A", "ST-B", "ST-C"]
STATION_LAT = [10.0, 20.5, -30.25]
STATION_LON = [-5.0, 5.5, 150.0]
PROFILE_IDS = [1001, 1002, 1003, 1004]
PROFILE_LAT = [40.0, 41.0, 45.0, 50.0]
PROFILE_LON = [-20.0, -19.0, -10.0, 5.0]
PROFILE_COUNTS = [5, 3, 6, 4]
GLIDERS = ["glider-1", "glider-2"]


def station_temp(s, t):
    if (s, t) == (1, 7):
        return None  # a gap in the record
    return 280.0 + s * 5 + 0.25 * t


def write_stations(path):
    """timeSeries, orthogonal multidimensional: temp(station, time)."""
    nt = 24
    with Dataset(path, "w") as nc:
        nc.featureType = "timeSeries"
        nc.Conventions = "CF-1.8"
        nc.title = "Three stations"
        nc.createDimension("station", 3)
        nc.createDimension("time", nt)
        nc.createDimension("name_strlen", 8)
        name = nc.createVariable("station_name", "S1", ("station", "name_strlen"))
        name.cf_role = "timeseries_id"
        name[:] = stringtochar(np.array(STATIONS, dtype="S8"))
        lat = nc.createVariable("lat", "f8", ("station",))
        lat.standard_name, lat.units = "latitude", "degrees_north"
        lat[:] = STATION_LAT
        lon = nc.createVariable("lon", "f8", ("station",))
        lon.standard_name, lon.units = "longitude", "degrees_east"
        lon[:] = STATION_LON
        time = nc.createVariable("time", "f8", ("time",))
        time.standard_name, time.units = "time", "hours since 2021-03-01 00:00:00"
        time[:] = np.arange(nt, dtype="f8")
        temp = nc.createVariable("temp", "f4", ("station", "time"), fill_value=np.float32(-999.0))
        temp.standard_name, temp.units = "air_temperature", "K"
        temp.coordinates = "time lat lon station_name"
        vals = np.full((3, nt), -999.0, dtype="f4")
        for s in range(3):
            for t in range(nt):
                v = station_temp(s, t)
                if v is not None:
                    vals[s, t] = v
        temp[:] = vals
        wind = nc.createVariable("wind", "f4", ("station", "time"))
        wind.units = "m s-1"
        wind.long_name = "wind speed"
        wind[:] = np.arange(3 * nt, dtype="f4").reshape(3, nt) / 10


def write_profiles(path, counts=PROFILE_COUNTS, obs=None):
    """profile, contiguous ragged: counts in row_size (sample_dimension = obs)."""
    n = len(PROFILE_IDS)
    nobs = sum(PROFILE_COUNTS) if obs is None else obs
    with Dataset(path, "w") as nc:
        nc.featureType = "profile"
        nc.Conventions = "CF-1.8"
        nc.createDimension("profile", n)
        nc.createDimension("obs", nobs)
        pid = nc.createVariable("profile", "i4", ("profile",))
        pid.cf_role = "profile_id"
        pid[:] = PROFILE_IDS
        lat = nc.createVariable("lat", "f8", ("profile",))
        lat.standard_name, lat.units = "latitude", "degrees_north"
        lat[:] = PROFILE_LAT
        lon = nc.createVariable("lon", "f8", ("profile",))
        lon.standard_name, lon.units = "longitude", "degrees_east"
        lon[:] = PROFILE_LON
        time = nc.createVariable("time", "f8", ("profile",))
        time.standard_name, time.units = "time", "days since 2022-06-01"
        time[:] = [0.5, 1.5, 2.5, 3.5]
        rs = nc.createVariable("row_size", "i4", ("profile",))
        rs.sample_dimension = "obs"
        rs.long_name = "number of observations for this profile"
        rs[:] = counts
        z = nc.createVariable("z", "f4", ("obs",))
        z.standard_name, z.units, z.positive, z.axis = "depth", "m", "down", "Z"
        sal = nc.createVariable("salinity", "f4", ("obs",))
        sal.standard_name, sal.units = "sea_water_salinity", "1e-3"
        depths, sals = [], []
        for p, c in enumerate(PROFILE_COUNTS):
            for k in range(c):
                depths.append(10.0 * k)
                sals.append(34.0 + p + 0.1 * k)
        z[:] = np.array(depths[:nobs], dtype="f4")
        sal[:] = np.array(sals[:nobs], dtype="f4")


def write_glider(path):
    """trajectory, indexed ragged: observations of two gliders interleaved."""
    n = 20
    idx = np.array([k % 2 for k in range(n)], dtype="i4")
    with Dataset(path, "w", format="NETCDF4") as nc:
        nc.featureType = "trajectory"
        nc.Conventions = "CF-1.8"
        nc.createDimension("trajectory", 2)
        nc.createDimension("obs", n)
        tid = nc.createVariable("trajectory", str, ("trajectory",))
        tid.cf_role = "trajectory_id"
        tid[0] = GLIDERS[0]
        tid[1] = GLIDERS[1]
        ti = nc.createVariable("trajectory_index", "i4", ("obs",))
        ti.instance_dimension = "trajectory"
        ti[:] = idx
        time = nc.createVariable("time", "f8", ("obs",))
        time.standard_name, time.units = "time", "seconds since 2023-01-01"
        lat = nc.createVariable("lat", "f8", ("obs",))
        lat.standard_name, lat.units = "latitude", "degrees_north"
        lon = nc.createVariable("lon", "f8", ("obs",))
        lon.standard_name, lon.units = "longitude", "degrees_east"
        depth = nc.createVariable("depth", "f4", ("obs",))
        depth.standard_name, depth.units, depth.positive = "depth", "m", "down"
        temp = nc.createVariable("temp", "f4", ("obs",))
        temp.standard_name, temp.units = "sea_water_temperature", "degree_Celsius"
        k = np.arange(n) // 2
        time[:] = 600.0 * k
        # glider-1 goes east along 35N from 10E; glider-2 goes north along 0E from 60N.
        lat[:] = np.where(idx == 0, 35.0, 60.0 + 0.1 * k)
        lon[:] = np.where(idx == 0, 10.0 + 0.1 * k, 0.0)
        depth[:] = (5.0 * k).astype("f4")
        temp[:] = (15.0 - 0.1 * np.arange(n)).astype("f4")


def write_no_cf_role(path):
    write_stations(path)
    with Dataset(path, "a") as nc:
        nc["station_name"].delncattr("cf_role")


def write_all(d):
    write_stations(d / "stations.nc")
    write_profiles(d / "profiles.nc")
    write_glider(d / "glider.nc")
    write_profiles(d / "bad_counts.nc", counts=[5, 3, 6, 9])
    write_no_cf_role(d / "no_cf_role.nc")


# Two-level types: timeSeriesProfile (CF H.5) and trajectoryProfile (CF H.6).
TSP_STATIONS = ["M1", "M2", "M3"]
TSP_LAT = [36.5, 37.0, 38.25]
TSP_LON = [-122.0, -123.5, -124.0]
SHIPS = ["ship-A", "ship-B"]


def _coords(nc, lat_dims, time_dims, time_units, z_dims, z_fill=None):
    lat = nc.createVariable("lat", "f8", lat_dims)
    lat.standard_name, lat.units = "latitude", "degrees_north"
    lon = nc.createVariable("lon", "f8", lat_dims)
    lon.standard_name, lon.units = "longitude", "degrees_east"
    time = nc.createVariable("time", "f8", time_dims)
    time.standard_name, time.units = "time", time_units
    z = nc.createVariable("z", "f4", z_dims, fill_value=z_fill)
    z.standard_name, z.units, z.positive, z.axis = "depth", "m", "down", "Z"
    return lat, lon, time, z


def write_station_profiles(path):
    """timeSeriesProfile, orthogonal multidimensional (H.5.1): temp(station, profile, z),
    time(profile), z(z); one value missing."""
    ns, npf, nz = 3, 4, 5
    with Dataset(path, "w") as nc:
        nc.featureType = "timeSeriesProfile"
        nc.Conventions = "CF-1.8"
        nc.title = "Moorings with profilers"
        nc.createDimension("station", ns)
        nc.createDimension("profile", npf)
        nc.createDimension("z", nz)
        nc.createDimension("name_strlen", 4)
        name = nc.createVariable("station_name", "S1", ("station", "name_strlen"))
        name.cf_role = "timeseries_id"
        name[:] = stringtochar(np.array(TSP_STATIONS, dtype="S4"))
        lat, lon, time, z = _coords(nc, ("station",), ("profile",), "hours since 2024-05-01", ("z",))
        lat[:], lon[:] = TSP_LAT, TSP_LON
        time[:] = [0.0, 6.0, 12.0, 18.0]
        z[:] = [0.0, 10.0, 20.0, 50.0, 100.0]
        temp = nc.createVariable("temp", "f4", ("station", "profile", "z"), fill_value=np.float32(-999.0))
        temp.standard_name, temp.units = "sea_water_temperature", "degree_Celsius"
        temp.coordinates = "time lat lon z station_name"
        vals = np.fromfunction(lambda s, p, k: 15.0 + s - 0.1 * k + 0.5 * p, (ns, npf, nz)).astype("f4")
        vals[1, 2, 3] = -999.0
        temp[:] = vals


def write_station_profiles_ragged(path, counts=(3, 2, 4, 1, 3)):
    """timeSeriesProfile, ragged (H.5.3): station_index(profile), row_size(profile)."""
    station_index = [0, 1, 0, 1, 0]
    with Dataset(path, "w") as nc:
        nc.featureType = "timeSeriesProfile"
        nc.Conventions = "CF-1.8"
        nc.createDimension("station", 2)
        nc.createDimension("profile", 5)
        nc.createDimension("obs", sum((3, 2, 4, 1, 3)))
        name = nc.createVariable("station_name", str, ("station",))
        name.cf_role = "timeseries_id"
        name[0], name[1] = TSP_STATIONS[0], TSP_STATIONS[1]
        pid = nc.createVariable("profile", "i4", ("profile",))
        pid.cf_role = "profile_id"
        pid[:] = np.arange(5)
        lat, lon, time, z = _coords(nc, ("station",), ("profile",), "hours since 2024-05-01", ("obs",))
        lat[:], lon[:] = TSP_LAT[:2], TSP_LON[:2]
        time[:] = [0.0, 1.0, 6.0, 7.0, 12.0]
        si = nc.createVariable("station_index", "i4", ("profile",))
        si.instance_dimension = "station"
        si[:] = station_index
        rs = nc.createVariable("row_size", "i4", ("profile",))
        rs.sample_dimension = "obs"
        rs[:] = list(counts)
        temp = nc.createVariable("temp", "f4", ("obs",))
        temp.standard_name, temp.units = "sea_water_temperature", "degree_Celsius"
        depths, temps = [], []
        for p, c in enumerate((3, 2, 4, 1, 3)):
            for k in range(c):
                depths.append(5.0 * k)
                temps.append(20.0 - p - 0.25 * k)
        z[:] = depths
        temp[:] = temps


def write_ship_profiles(path):
    """trajectoryProfile, ragged (H.6.3): the ships' profiles interleaved."""
    traj_index = [0, 1, 0, 1, 0, 1]
    counts = [2, 3, 4, 2, 3, 1]
    with Dataset(path, "w", format="NETCDF4") as nc:
        nc.featureType = "trajectoryProfile"
        nc.Conventions = "CF-1.8"
        nc.createDimension("trajectory", 2)
        nc.createDimension("profile", 6)
        nc.createDimension("obs", sum(counts))
        tid = nc.createVariable("trajectory", str, ("trajectory",))
        tid.cf_role = "trajectory_id"
        tid[0], tid[1] = SHIPS
        lat, lon, time, z = _coords(nc, ("profile",), ("profile",), "days since 2024-01-01", ("obs",))
        k = np.arange(6) // 2
        # ship-A steams east along 10S from 30W, ship-B north along 20W from 0N.
        lat[:] = np.where(np.array(traj_index) == 0, -10.0, 0.0 + k)
        lon[:] = np.where(np.array(traj_index) == 0, -30.0 + k, -20.0)
        time[:] = 1.0 * k + 0.25 * np.array(traj_index)
        ti = nc.createVariable("trajectory_index", "i4", ("profile",))
        ti.instance_dimension = "trajectory"
        ti[:] = traj_index
        rs = nc.createVariable("row_size", "i4", ("profile",))
        rs.sample_dimension = "obs"
        rs[:] = counts
        sal = nc.createVariable("salinity", "f4", ("obs",))
        sal.standard_name, sal.units = "sea_water_salinity", "1e-3"
        depths, sals = [], []
        for p, c in enumerate(counts):
            for j in range(c):
                depths.append(10.0 * j)
                sals.append(35.0 + 0.1 * p + 0.01 * j)
        z[:] = depths
        sal[:] = sals


def write_ship_profiles_multidim(path, ship="ship-C", lat0=-40.0, lon0=100.0, day0=0.0, hours=False):
    """trajectoryProfile, orthogonal multidimensional (H.6.1): lat/lon/time(trajectory,
    profile), z(z), temp(trajectory, profile, z); one trajectory."""
    npf, nz = 4, 3
    with Dataset(path, "w") as nc:
        nc.featureType = "trajectoryProfile"
        nc.Conventions = "CF-1.8"
        nc.createDimension("trajectory", 1)
        nc.createDimension("profile", npf)
        nc.createDimension("z", nz)
        nc.createDimension("name_strlen", 16)
        name = nc.createVariable("trajectory", "S1", ("trajectory", "name_strlen"))
        name.cf_role = "trajectory_id"
        name[:] = stringtochar(np.array([ship], dtype="S16"))
        dims = ("trajectory", "profile")
        units = "hours since 2024-02-01" if hours else "days since 2024-02-01"
        lat, lon, time, z = _coords(nc, dims, dims, units, ("z",))
        lat[:] = [[lat0 + 0.5 * p for p in range(npf)]]
        lon[:] = [[lon0 + 0.5 * p for p in range(npf)]]
        time[:] = [[(day0 + p) * (24 if hours else 1) for p in range(npf)]]
        z[:] = [0.0, 25.0, 50.0]
        temp = nc.createVariable("temp", "f4", ("trajectory", "profile", "z"))
        temp.standard_name, temp.units = "sea_water_temperature", "degree_Celsius"
        temp[:] = np.fromfunction(lambda t, p, k: 10.0 + p - 0.5 * k + lat0 / 100, (1, npf, nz)).astype("f4")


def write_profiles_all(d):
    write_station_profiles(d / "moorings.nc")
    write_station_profiles_ragged(d / "moorings_ragged.nc")
    write_ship_profiles(d / "ships.nc")
    write_ship_profiles_multidim(d / "ship_c.nc")
    write_one_glider_profiles(d / "one_glider.nc")
    write_station_profiles_ragged(d / "bad_tsp_counts.nc", counts=(3, 2, 4, 1, 9))


FLOATS = [f"float-{i}" for i in range(1, 6)]


def write_float(d, i):
    """One trajectoryProfile file per float (an aggregation's member); the last one
    with its times in hours."""
    write_ship_profiles_multidim(d / f"{FLOATS[i]}.nc", ship=FLOATS[i], lat0=-40.0 + 3 * i,
                                 lon0=100.0 + 5 * i, day0=2.0 * i, hours=i == 4)


def write_one_glider_profiles(path):
    """trajectoryProfile of one trajectory (scalar id, H.6.2): lat/lon/time(profile),
    z(profile, z) with fill values below each profile's bottom, temp(profile, z)."""
    npf, nz = 3, 4
    with Dataset(path, "w") as nc:
        nc.featureType = "trajectoryProfile"
        nc.Conventions = "CF-1.8"
        nc.createDimension("profile", npf)
        nc.createDimension("z", nz)
        tid = nc.createVariable("trajectory", "i4", ())
        tid.cf_role = "trajectory_id"
        tid.assignValue(7)
        lat, lon, time, z = _coords(nc, ("profile",), ("profile",), "days since 2024-03-01",
                                    ("profile", "z"), z_fill=np.float32(-999.0))
        lat[:] = [50.0, 50.5, 51.0]
        lon[:] = [-10.0, -10.5, -11.0]
        time[:] = [0.0, 0.5, 1.0]
        temp = nc.createVariable("temp", "f4", ("profile", "z"), fill_value=np.float32(-999.0))
        temp.standard_name, temp.units = "sea_water_temperature", "degree_Celsius"
        bottom = [4, 2, 3]
        zz = np.full((npf, nz), -999.0, dtype="f4")
        tt = np.full((npf, nz), -999.0, dtype="f4")
        for p in range(npf):
            for k in range(bottom[p]):
                zz[p, k] = 10.0 * k
                tt[p, k] = 12.0 - p - 0.5 * k
        temp[:] = tt
        z[:] = zz
