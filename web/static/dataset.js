// The dataset page's map viewer (the dataset's WMS layers over an offline base map,
// time and elevation from the layer's capabilities, palette, colour range, legend,
// click → EDR position query → chart) and the OPeNDAP and EDR request builders.
"use strict";
(function () {
  const ds = JSON.parse(document.getElementById("dataset-json").textContent);
  const $ = (id) => document.getElementById(id);

  // ---- copy buttons -------------------------------------------------------------
  for (const b of document.querySelectorAll("button.copy")) {
    b.addEventListener("click", async () => {
      const text = $(b.dataset.target).textContent;
      try { await navigator.clipboard.writeText(text); b.textContent = "Copied"; }
      catch (e) { b.textContent = "Select and copy"; }
      setTimeout(() => { b.textContent = "Copy"; }, 1500);
    });
  }

  // ---- map viewer ---------------------------------------------------------------
  const state = { layers: [], layer: null, times: [], elevations: [], wms: null, marker: null, plot: null };

  // Expands a WMS time extent (a list of instants or start/end/period) into instants.
  function expandTimes(extent) {
    const out = [];
    for (const part of extent.split(",").map((s) => s.trim()).filter(Boolean)) {
      const p = part.split("/");
      if (p.length !== 3) { out.push(part); continue; }
      const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?)?$/.exec(p[2]);
      let t = new Date(p[0]);
      const end = new Date(p[1]);
      if (!m || isNaN(t) || isNaN(end)) { out.push(p[0], p[1]); continue; }
      const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x || 0));
      for (let i = 0; t <= end && i < 5000; i++) {
        out.push(t.toISOString().replace(".000Z", "Z"));
        t = new Date(Date.UTC(t.getUTCFullYear() + y, t.getUTCMonth() + mo, t.getUTCDate() + d,
          t.getUTCHours() + h, t.getUTCMinutes() + mi, t.getUTCSeconds() + s));
      }
    }
    return out;
  }

  function parseCapabilities(xml) {
    const doc = new DOMParser().parseFromString(xml, "text/xml");
    const child = (el, name) => Array.from(el.children).find((c) => c.localName === name);
    const layers = [];
    for (const el of doc.getElementsByTagNameNS("*", "Layer")) {
      if (Array.from(el.children).some((c) => c.localName === "Layer")) continue;
      const name = child(el, "Name");
      if (!name) continue;
      const layer = { name: name.textContent, title: (child(el, "Title") || name).textContent, times: [], elevations: [], styles: [], units: "" };
      for (const dim of Array.from(el.children).filter((c) => c.localName === "Dimension")) {
        const values = dim.textContent.trim();
        if (dim.getAttribute("name") === "time" && values) layer.times = expandTimes(values);
        if (dim.getAttribute("name") === "elevation" && values) {
          layer.elevations = values.split(",").map((s) => s.trim());
          layer.units = dim.getAttribute("units") || "";
        }
      }
      for (const st of Array.from(el.children).filter((c) => c.localName === "Style")) {
        const n = child(st, "Name");
        if (n) layer.styles.push(n.textContent);
      }
      layers.push(layer);
    }
    return layers;
  }

  function variable(name) {
    return ds.variables.find((v) => v.name === name || "/" + v.name === name);
  }

  // The colour range a variable declares (valid range or actual range), if any.
  function declaredRange(name) {
    const v = variable(name);
    if (!v) return null;
    const a = Object.fromEntries(v.attributes.map((x) => [x.name, x.value]));
    if (a.valid_min !== undefined && a.valid_max !== undefined) return [Number(a.valid_min), Number(a.valid_max)];
    for (const key of ["actual_range", "valid_range"]) {
      if (a[key]) {
        const r = a[key].split(",").map(Number);
        if (r.length === 2 && r.every(isFinite)) return r;
      }
    }
    return null;
  }

  function wmsParams() {
    const p = { STYLES: $("palette").value };
    const lo = $("range-min").value, hi = $("range-max").value;
    if (lo !== "" && hi !== "" && Number(lo) < Number(hi)) p.COLORSCALERANGE = lo + "," + hi;
    if (state.times.length) p.TIME = state.times[Number($("time").value)];
    if (state.elevations.length) p.ELEVATION = $("elevation").value;
    return p;
  }

  function updateLegend() {
    const p = wmsParams();
    const q = new URLSearchParams({ SERVICE: "WMS", VERSION: "1.3.0", REQUEST: "GetLegendGraphic", LAYER: state.layer.name, STYLE: p.STYLES, FORMAT: "image/png" });
    if (p.COLORSCALERANGE) q.set("COLORSCALERANGE", p.COLORSCALERANGE);
    const img = $("legend");
    img.src = ds.urls.wms + "?" + q.toString();
    img.alt = "Colour legend of " + state.layer.title;
    img.hidden = false;
  }

  function redraw() {
    if (!state.wms) return;
    const p = wmsParams();
    // Leaflet keeps parameters it was given: drop those now unset.
    for (const k of ["COLORSCALERANGE", "TIME", "ELEVATION"]) if (!(k in p)) delete state.wms.wmsParams[k];
    state.wms.setParams(p);
    updateLegend();
  }

  function chooseLayer(map) {
    const layer = state.layers.find((l) => l.name === $("layer").value) || state.layers[0];
    state.layer = layer;
    state.times = layer.times;
    state.elevations = layer.elevations;
    const time = $("time");
    time.max = Math.max(0, state.times.length - 1);
    time.value = Math.max(0, state.times.length - 1);
    time.disabled = state.times.length < 2;
    $("time-value").textContent = state.times.length ? state.times[Number(time.value)] : "–";
    const elev = $("elevation");
    elev.innerHTML = "";
    for (const e of state.elevations) elev.add(new Option(e + (layer.units ? " " + layer.units : ""), e));
    elev.disabled = state.elevations.length === 0;
    const palette = $("palette");
    const before = palette.value;
    palette.innerHTML = "";
    for (const s of layer.styles) palette.add(new Option(s.replace(/^default-scalar\//, ""), s));
    if (layer.styles.includes(before)) palette.value = before;
    const range = declaredRange(layer.name);
    $("range-min").value = range ? range[0] : "";
    $("range-max").value = range ? range[1] : "";
    if (state.wms) map.removeLayer(state.wms);
    state.wms = L.tileLayer.wms(ds.urls.wms, Object.assign({
      layers: layer.name, format: "image/png", transparent: true, version: "1.3.0", uppercase: true, opacity: 0.85,
      attribution: "datagate WMS",
    }, wmsParams())).addTo(map);
    state.wms.on("tileerror", () => { $("map-status").textContent = "Some map tiles failed to load."; });
    updateLegend();
  }

  async function timeSeries(map, latlng) {
    if (!state.layer) return;
    const lon = ((((latlng.lng + 180) % 360) + 360) % 360) - 180;
    const lat = latlng.lat;
    if (state.marker) state.marker.remove();
    state.marker = L.circleMarker(latlng, { radius: 6, color: "#c2410c" }).addTo(map);
    $("edr-lon").value = lon.toFixed(3);
    $("edr-lat").value = lat.toFixed(3);
    buildEdr();
    const name = state.layer.name.replace(/^\//, "");
    const q = new URLSearchParams({ coords: `POINT(${lon.toFixed(4)} ${lat.toFixed(4)})`, "parameter-name": name });
    if (state.elevations.length) q.set("z", $("elevation").value);
    const status = $("map-status");
    status.textContent = `Querying ${name} at ${lon.toFixed(2)}°, ${lat.toFixed(2)}°…`;
    try {
      const r = await fetch(ds.urls.edr + "/position?" + q.toString(), { headers: { Accept: "application/prs.coverage+json, application/json" } });
      const doc = await r.json();
      if (!r.ok) { status.textContent = doc.description || doc.detail || `EDR answered ${r.status}`; return; }
      const cov = doc.type === "CoverageCollection" ? doc.coverages[0] : doc;
      const axes = cov.domain.axes;
      const range = cov.ranges[name] || Object.values(cov.ranges)[0];
      const values = range.values.map((v) => (v === null ? null : Number(v)));
      let xs, xlabel, time = true;
      if (axes.t && axes.t.values && axes.t.values.length === values.length) {
        xs = axes.t.values.map((t) => Date.parse(t) / 1000);
        xlabel = "time";
      } else if (axes.z && axes.z.values) {
        xs = axes.z.values.map(Number);
        xlabel = "elevation";
        time = false;
      } else {
        xs = values.map((_, i) => i);
        xlabel = "index";
        time = false;
      }
      drawChart(`${name} at ${lon.toFixed(2)}°, ${lat.toFixed(2)}°`, xs, values, xlabel, time);
      status.textContent = `${values.length} values of ${name} at ${lon.toFixed(2)}°, ${lat.toFixed(2)}°.`;
    } catch (e) {
      status.textContent = "The EDR query failed: " + e.message;
    }
  }

  function drawChart(title, xs, ys, xlabel, time) {
    const el = $("chart");
    if (state.plot) state.plot.destroy();
    el.innerHTML = "";
    const v = variable(state.layer.name);
    const units = v && v.units ? v.units : "";
    const width = Math.max(280, Math.min(el.clientWidth || 800, 1000));
    state.plot = new uPlot({
      title, width, height: 260,
      scales: { x: { time } },
      series: [{ label: xlabel }, { label: units ? `${state.layer.name} (${units})` : state.layer.name, stroke: "#0b5cad", width: 2, points: { show: true, size: 6 }, spanGaps: false }],
      axes: [{}, { label: units }],
    }, [xs, ys], el);
  }

  // Observations' places and tracks (or a swath's outline), from the STAC index.
  function drawGeometry(map) {
    const shapes = L.geoJSON(ds.geometry, {
      style: { color: "#c2410c", weight: 2, fillOpacity: 0.1 },
      pointToLayer: (_, latlng) => L.circleMarker(latlng, { radius: 6, color: "#c2410c", fillOpacity: 0.7 }),
    }).addTo(map);
    shapes.eachLayer((l) => l.bindTooltip(ds.id));
    const b = shapes.getBounds();
    if (b.isValid()) map.fitBounds(b, { padding: [20, 20], maxZoom: 6 });
  }

  async function startViewer() {
    const mapEl = $("map");
    if (!mapEl || !window.L) return;
    const map = window.datagateMap(mapEl);
    window.datagateViewer = { map, state };
    if (ds.bbox) {
      const bounds = window.datagateBounds(ds.bbox);
      L.rectangle(bounds, { color: "#1b1f24", weight: 1, fill: false, interactive: false }).addTo(map);
      map.fitBounds(bounds, { padding: [10, 10] });
    }
    if (ds.geometry) drawGeometry(map);
    const noLayers = (why) => {
      $("map-controls").hidden = true;
      $("map-status").textContent = why;
    };
    if (!ds.urls.wms) { noLayers("No map layers: the extent of the data is outlined."); return; }
    const caps = ds.urls.wms + "?SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.3.0";
    let xml;
    try {
      const r = await fetch(caps);
      xml = await r.text();
      if (!r.ok) throw new Error("GetCapabilities answered " + r.status);
    } catch (e) {
      noLayers("No map layers: " + e.message);
      return;
    }
    state.layers = parseCapabilities(xml);
    if (!state.layers.length) { noLayers(ds.geometry ? "Observation places and tracks." : "This dataset has no map layers."); return; }
    const select = $("layer");
    for (const l of state.layers) select.add(new Option(l.title === l.name ? l.name : `${l.name} — ${l.title}`, l.name));
    chooseLayer(map);
    select.addEventListener("change", () => chooseLayer(map));
    $("time").addEventListener("input", () => { $("time-value").textContent = state.times[Number($("time").value)]; redraw(); });
    for (const id of ["elevation", "palette", "range-min", "range-max"]) $(id).addEventListener("change", redraw);
    $("map-controls").addEventListener("submit", (e) => { e.preventDefault(); redraw(); });
    if (ds.urls.edr) {
      map.on("click", (e) => timeSeries(map, e.latlng));
      // Shift-drag draws a box: the EDR builder's area query.
      map.on("boxzoomend", (e) => {
        if (!$("edr-form")) return;
        const b = e.boxZoomBounds;
        $("edr-type").value = "area";
        $("edr-lon").value = b.getWest().toFixed(3);
        $("edr-lat").value = b.getSouth().toFixed(3);
        $("edr-east").value = b.getEast().toFixed(3);
        $("edr-north").value = b.getNorth().toFixed(3);
        buildEdr();
      });
      // The keyboard's way to the chart: the EDR builder's point.
      const plot = $("edr-plot");
      if (plot) plot.addEventListener("click", () => {
        const latlng = L.latLng(Number($("edr-lat").value), Number($("edr-lon").value));
        timeSeries(map, latlng);
        $("viewer").scrollIntoView();
      });
    }
  }

  // ---- OPeNDAP request builder ----------------------------------------------------
  function buildDap() {
    const form = $("dap-form");
    if (!form) return;
    const dims = {};
    for (const d of form.querySelectorAll(".dim")) {
      const len = Number(d.dataset.len);
      const clamp = (x, lo, hi) => Math.max(lo, Math.min(hi, isFinite(x) ? x : lo));
      const start = clamp(Math.floor(Number(d.querySelector(".dim-start").value)), 0, len - 1);
      const stop = clamp(Math.floor(Number(d.querySelector(".dim-stop").value)), start, len - 1);
      const stride = clamp(Math.floor(Number(d.querySelector(".dim-stride").value)), 1, len);
      dims[d.dataset.dim] = { start, stride, stop, count: Math.floor((stop - start) / stride) + 1 };
    }
    const chosen = Array.from(form.querySelectorAll("input[name=var]:checked")).map((c) => c.value);
    // The coordinate variables of the chosen variables' dimensions come along, so
    // clients get the subset's coordinates too.
    const names = [];
    for (const name of chosen) {
      const v = variable(name);
      for (const d of v.dims) {
        const c = ds.variables.find((x) => x.coordinate && x.name === d);
        if (c && !names.includes(c.name)) names.push(c.name);
      }
    }
    for (const n of chosen) if (!names.includes(n)) names.push(n);
    let bytes = 0;
    const parts = names.map((n) => {
      const v = variable(n);
      let count = 1;
      const hyper = v.dims.map((d) => { const r = dims[d]; count *= r.count; return `[${r.start}:${r.stride}:${r.stop}]`; }).join("");
      bytes += count * (v.item_bytes || 1);
      return n + hyper;
    });
    const ce = parts.join(",");
    const base = ds.urls.opendap;
    const url = ce ? `${base}?${ce}` : base;
    $("dap-url").textContent = url;
    const units = ["B", "kB", "MB", "GB", "TB"];
    let size = bytes, u = 0;
    while (size >= 1000 && u < units.length - 1) { size /= 1000; u++; }
    $("dap-size").textContent = ce ? `about ${size.toFixed(u ? 1 : 0)} ${units[u]} of values` : "the whole dataset (choose variables)";
    const q = ce ? "?" + ce : "";
    $("dap-nc").href = base + ".nc" + q;
    $("dap-csv").href = base + ".csv" + q;
    $("dap-ascii").href = base + ".ascii" + q;
  }
  if ($("dap-form")) {
    $("dap-form").addEventListener("input", buildDap);
    $("dap-form").addEventListener("change", buildDap);
    buildDap();
  }

  // ---- EDR query builder ----------------------------------------------------------
  function buildEdr() {
    if (!$("edr-form")) return;
    const type = $("edr-type").value;
    const lon = $("edr-lon").value, lat = $("edr-lat").value;
    const q = new URLSearchParams();
    if (type === "position") q.set("coords", `POINT(${lon} ${lat})`);
    else {
      const e = $("edr-east").value, n = $("edr-north").value;
      q.set("coords", `POLYGON((${lon} ${lat},${e} ${lat},${e} ${n},${lon} ${n},${lon} ${lat}))`);
    }
    const start = $("edr-start").value.trim(), end = $("edr-end").value.trim();
    if (start && end) q.set("datetime", `${start}/${end}`);
    else if (start) q.set("datetime", start);
    const params = Array.from($("edr-params").selectedOptions).map((o) => o.value);
    if (params.length) q.set("parameter-name", params.join(","));
    q.set("f", $("edr-format").value);
    const url = `${ds.urls.edr}/${type}?${q.toString()}`;
    $("edr-url").textContent = url;
    $("edr-open").href = url;
    for (const el of document.querySelectorAll(".box-only")) el.hidden = type !== "area";
  }
  if ($("edr-form")) {
    $("edr-form").addEventListener("input", buildEdr);
    $("edr-form").addEventListener("change", buildEdr);
    $("edr-form").addEventListener("submit", (e) => { e.preventDefault(); buildEdr(); });
    buildEdr();
  }

  startViewer();
})();
