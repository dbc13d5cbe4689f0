#!/usr/bin/env bash
# Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/: the project's
# NetCDF fixtures (`datagate make-fixtures`) and GeoTIFFs written by GDAL for the
# reader, typical query strings and configuration files for the parsers. Nothing is downloaded; the corpora are not
# committed (fuzz/corpus is ignored) and libFuzzer adds what it finds to them.
#
# Usage: scripts/fuzz-seed.sh            (idempotent: seeds are rewritten, finds kept)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
corpus=$root/fuzz/corpus

# One seed file per line of stdin, named by its content's hash.
seeds() {
    local dir=$corpus/$1
    mkdir -p "$dir"
    while IFS= read -r line; do
        printf '%s' "$line" >"$dir/seed-$(printf '%s' "$line" | sha1sum | cut -c1-16)"
    done
}

# A seed file with the whole of stdin (for multi-line inputs).
seed_file() {
    mkdir -p "$corpus/$1"
    cat >"$corpus/$1/seed-$2"
}

# --- the reader: the fixtures, and a few truncations of each -------------------------
fixtures=$(mktemp -d)
trap 'rm -rf "$fixtures"' EXIT
if [ -x "${DATAGATE_BIN:-}" ]; then
    "$DATAGATE_BIN" make-fixtures "$fixtures" >/dev/null
else
    cargo run --quiet --features fixtures -- make-fixtures "$fixtures" >/dev/null
fi
mkdir -p "$corpus/reader"
for f in "$fixtures"/*.nc; do
    name=$(basename "$f" .nc)
    cp "$f" "$corpus/reader/seed-$name"
    size=$(stat -c %s "$f")
    for cut in 8 64 512 $((size / 2)); do
        [ "$cut" -lt "$size" ] && head -c "$cut" "$f" >"$corpus/reader/seed-$name-head$cut"
    done
done
# GRIB (ecCodes' own samples, one- and two-message files) and GeoTIFF (GDAL's
# translation of a fixture), where the Debian packages are installed.
samples=/usr/share/eccodes/samples
for t in GRIB1 GRIB2 regular_ll_pl_grib2 gg_sfc_grib2 reduced_gg_pl_32_grib2 polar_stereographic_pl_grib2; do
    [ -f "$samples/$t.tmpl" ] || continue
    cp "$samples/$t.tmpl" "$corpus/reader/seed-$t"
    cat "$samples/$t.tmpl" "$samples/$t.tmpl" >"$corpus/reader/seed-$t-twice"
    head -c 200 "$samples/$t.tmpl" >"$corpus/reader/seed-$t-head200"
done
if command -v gdal_translate >/dev/null; then
    for opts in "-of GTiff" "-of GTiff -co TILED=YES -co COMPRESS=DEFLATE -co PREDICTOR=2" "-of COG -co COMPRESS=LZW"; do
        out="$corpus/reader/seed-tiff-$(echo "$opts" | tr -c 'A-Za-z0-9' _)"
        # shellcheck disable=SC2086
        gdal_translate -q $opts "NETCDF:$fixtures/sst_classic.nc:sst" "$out" 2>/dev/null || true
        rm -f "$out.aux.xml"
    done
fi

# --- GeoTIFF / COG seeds for the reader (GDAL writes them; skipped without it) -------
if command -v gdal_create >/dev/null && command -v gdal_translate >/dev/null; then
    tif=$fixtures/tif
    mkdir -p "$tif"
    gdal_create -q -of GTiff -outsize 40 20 -bands 2 -ot Int16 -burn 7 -a_srs EPSG:4326 \
        -a_ullr -20 60 20 40 -a_nodata -9999 -co BLOCKYSIZE=3 -co COMPRESS=LZW "$tif/striped.tif"
    gdal_translate -q -of COG -co COMPRESS=DEFLATE -co PREDICTOR=YES -co BLOCKSIZE=16 \
        "$tif/striped.tif" "$tif/cog.tif" 2>/dev/null
    gdal_translate -q -of GTiff -co TILED=YES -co BLOCKXSIZE=16 -co BLOCKYSIZE=16 \
        -co COMPRESS=ZSTD -co ENDIANNESS=BIG -co INTERLEAVE=BAND -ot Float32 \
        -a_srs EPSG:32633 -a_ullr 500000 5600000 540000 5580000 "$tif/striped.tif" "$tif/be.tif"
    gdal_translate -q -of GTiff -co BIGTIFF=YES -co COMPRESS=PACKBITS "$tif/striped.tif" \
        "$tif/big.tif"
    for f in "$tif"/*.tif; do
        name=tiff-$(basename "$f" .tif)
        cp "$f" "$corpus/reader/seed-$name"
        size=$(stat -c %s "$f")
        for cut in 8 64 512 $((size / 2)); do
            [ "$cut" -lt "$size" ] && head -c "$cut" "$f" >"$corpus/reader/seed-$name-head$cut"
        done
    done
fi

# --- DAP2 constraint expressions (the raw query of .dods/.ascii/.dds) ---------------
seeds dap2_ce <<'EOF2'
sst
sst[0][0:1:2][0:3]
sst[0:1:0][1][2:2:5],lat,lon
sst.sst[0][0][0],sst.time
time,lat[0:2],lon[1:1:3]
%22sst%22[0:0][0:1][0:1]
sst_packed[0][0:2][0:2]&time>0
quality,platform
forecast.temp[0:1][0:3]
forecast.deep.salinity[1:2]
temp[0][0][0:1:1][0:1]
v_u8[0:3],v_i64[1],v_f64
scalar_f64,counter[0:0]
sst[0:1:1][0:1:1000000000000000000000]
sst[18446744073709551615]
geogrid(sst,10,20,30,40)
sst%5B0%5D%5B0%5D%5B0%5D
 sst [ 0 ] , lat
EOF2

# --- DAP4 queries (dap4.ce percent-encoded as clients send it, and raw constraints) --
seeds dap4_ce <<'EOF2'
dap4.ce=/sst
dap4.ce=/sst%5B0%5D%5B0:2%5D%5B0:1:3%5D&dap4.checksum=true
dap4.ce=/time=%5B0:0%5D;/sst;/lat;/lon
dap4.ce=%252Fsst%25255b0%25255d
dap4.checksum=false
dap4.ce=/forecast/temp%5B0:1%5D%5B%5D;/forecast/deep/salinity
dap4.ce=/x=[1:2];/v_f32;/v_i8[0:3]
/sst[0][1:2][0:2:6]
/temp[0][0][][0:1]
/time=[0:1];/sst
/forecast/member=[1:2];/forecast/temp
/v\;u8;/scalar_f64
/sst[0:];/lat[1:]
/sst[18446744073709551615:1]
/sst[0:0:0]
/sst{}
EOF2

# --- EDR query strings (position, area, radius, trajectory, corridor, cube) ---------
seeds edr_params <<'EOF2'
coords=POINT(10 20)&parameter-name=sst&datetime=2020-01-01T00:00:00Z&f=CoverageJSON
coords=POINT(10%2020)&z=0&crs=CRS84
coords=MULTIPOINT((10 20),(11 21))&datetime=2020-01-01/2020-02-01
coords=POLYGON((0 0,10 0,10 10,0 10,0 0))&datetime=../2020-03-01&f=GeoJSON
coords=MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))&f=csv
coords=POINT(10 20)&within=50&within-units=km
coords=LINESTRING(0 0,10 10,20 5)&corridor-width=10&width-units=nmi&f=netcdf
coords=LINESTRING ZM(0 0 10 1577836800,10 10 20 1577840000)
bbox=-10,-20,30,40&z=R5/0/10&resolution-x=10&resolution-y=5
bbox=-10,-20,0,30,40,100&z=0/100&parameter_names=sst,temp
datetime=2020-01-01,2020-01-02,2020-01-03&z=0,10,20
datetime=2020-02-30T25:61:61Z&z=1e308/-1e308
coords=POINT(10 20)&f=html&accept=application/prs.coverage%2Bjson
coords=GEOMETRYCOLLECTION(POINT(1 2))
within=-1&within-units=furlongs
EOF2

# --- WKT alone ---------------------------------------------------------------------
seeds edr_wkt <<'EOF2'
POINT(10 20)
POINT Z(10 20 5)
POINT M(10 20 1577836800)
POINT ZM(10 20 5 1577836800)
MULTIPOINT((10 20),(30 40))
MULTIPOINT(10 20,30 40)
LINESTRING(0 0,10 10,20 5)
POLYGON((0 0,10 0,10 10,0 10,0 0),(2 2,3 2,3 3,2 2))
MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))
GEOMETRYCOLLECTION(POINT(1 2),LINESTRING(0 0,1 1))
POINT EMPTY
POINT(1e400 -1e400)
EOF2

# --- WMS (GetMap, GetFeatureInfo, GetLegendGraphic query strings) -------------------
seeds wms_params <<'EOF2'
SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=sst&STYLES=&CRS=EPSG:4326&BBOX=-90,-180,90,180&WIDTH=256&HEIGHT=128&FORMAT=image/png&TRANSPARENT=TRUE
service=wms&version=1.1.1&request=GetMap&layers=sst,temp&styles=default-scalar/viridis,&srs=EPSG:4326&bbox=-180,-90,180,90&width=512&height=256&format=image%2Fjpeg&bgcolor=0xFF8800
VERSION=1.3.0&REQUEST=GetMap&LAYERS=temp&CRS=EPSG:3857&BBOX=-20037508,-20037508,20037508,20037508&WIDTH=256&HEIGHT=256&COLORSCALERANGE=0,30&NUMCOLORBANDS=20&LOGSCALE=true&ABOVEMAXCOLOR=extend&BELOWMINCOLOR=transparent
VERSION=1.3.0&REQUEST=GetMap&LAYERS=sst&CRS=EPSG:32633&BBOX=100000,0,900000,9000000&WIDTH=64&HEIGHT=64&PALETTE=rainbow&COLORSCALERANGE=auto
VERSION=1.3.0&REQUEST=GetMap&LAYERS=sst&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=100000&HEIGHT=0
VERSION=1.1.1&REQUEST=GetFeatureInfo&LAYERS=sst&QUERY_LAYERS=sst&SRS=EPSG:4326&BBOX=0,0,10,10&WIDTH=10&HEIGHT=10&X=5&Y=5&INFO_FORMAT=text/plain
REQUEST=GetLegendGraphic&LAYER=sst&STYLE=default-scalar/magma&COLORSCALERANGE=-5,5&WIDTH=20&HEIGHT=200
WMTVER=1.0.0&REQUEST=map&LAYERS=sst&SRS=EPSG:4326&BBOX=1,2,3,4&WIDTH=1&HEIGHT=1&BGCOLOR=%23aabbcc
EOF2

# --- STAC item search: GET query strings and POST bodies -----------------------------
seeds stac_search <<'EOF2'
bbox=-10,-20,30,40&datetime=2020-01-01T00:00:00Z/2020-06-01T00:00:00Z&limit=10
bbox=170,-10,-170,10&collections=ocean,coast&ids=sst
bbox=0,0,0,10,10,100&datetime=../2021-01-01T00:00:00Z&token=next:10
datetime=2020-03-01T00:00:00Z&limit=1
intersects=%7B%22type%22%3A%22Point%22%2C%22coordinates%22%3A%5B10%2C20%5D%7D
intersects={"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]]]}
{"bbox":[-10,-20,30,40],"datetime":"2020-01-01T00:00:00Z/..","limit":5}
{"intersects":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]},"collections":["ocean"]}
{"intersects":{"type":"GeometryCollection","geometries":[{"type":"LineString","coordinates":[[0,0],[5,5]]}]}}
{"ids":["sst","small"],"token":"next:1","limit":10000}
EOF2

# --- configuration files -------------------------------------------------------------
mkdir -p "$corpus/config"
find config catalogs -name '*.toml' | while read -r f; do
    cp "$f" "$corpus/config/seed-$(echo "$f" | tr / -)"
done
seed_file config full.toml <<'EOF2'
[server]
bind = "0.0.0.0:8080"
public_url = "https://data.example.org/datagate"

[limits]
max_response_bytes = 1073741824
read_block_bytes = 16777216

[storage]
local_reads = "native"
remote_reads = "ranges"
block_bytes = 524288

[wms]
max_width = 4096
max_height = 4096
default_palette = "viridis"

[[roots]]
path = "data"
prefix = "archive/"

[[datasets]]
id = "sst"
title = "Sea surface temperature"
location = "data/sst.nc"

[[datasets]]
id = "model"
glob = "s3://bucket/model/*.nc"

[[collections]]
id = "daily"
glob = "daily/sst_*.nc"
join_new = "time"
date_format = "sst_%Y%m%d.nc"
units = "hours since 2000-01-01"
rescan_secs = 600

[[collections]]
id = "runs"
glob = "runs/*.nc"
join_existing = "time"
EOF2
seed_file config bad.toml <<'EOF2'
[server]
bind = "not an address"
public_url = "ftp://x"
[limits]
read_block_bytes = 0
[[collections]]
id = "../x"
glob = "*.nc"
join_new = "time"
join_existing = "time"
[[datasets]]
location = "a.nc"
glob = "*.nc"
EOF2

for t in "$corpus"/*/; do
    echo "$(basename "$t"): $(find "$t" -type f | wc -l) inputs"
done
