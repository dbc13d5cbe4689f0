// The catalog page with JavaScript: results follow the form as it changes (the page
// itself works without), and a map shows the results' extents.
"use strict";
(function () {
  const form = document.getElementById("search");
  const results = document.getElementById("results");
  const mapEl = document.getElementById("catalog-map");
  let map = null;
  let boxes = null;

  function drawExtents() {
    if (!map) return;
    boxes.clearLayers();
    const all = [];
    for (const row of results.querySelectorAll("tr.hit[data-bbox]")) {
      const b = row.dataset.bbox.split(",").map(Number);
      const bounds = window.datagateBounds(b);
      const rect = L.rectangle(bounds, { color: "#0b5cad", weight: 1, fillOpacity: 0.08 });
      rect.bindTooltip(row.dataset.id);
      rect.on("click", () => { window.location.href = row.querySelector("a.dataset-link").href; });
      rect.addTo(boxes);
      all.push(bounds);
    }
    if (all.length) map.fitBounds(all.reduce((a, b) => a.extend(b), L.latLngBounds(all[0].getSouthWest(), all[0].getNorthEast())), { maxZoom: 4 });
  }

  if (mapEl && window.L) {
    map = window.datagateMap(mapEl);
    boxes = L.featureGroup().addTo(map);
    const use = document.createElement("button");
    use.type = "button";
    use.textContent = "Use map view as area";
    // Shift-drag draws a box (Leaflet's box zoom), which becomes the search area too.
    map.on("boxzoomend", (e) => setArea(e.boxZoomBounds));
    use.addEventListener("click", () => setArea(map.getBounds()));
    function setArea(b) {
      const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
      let w = b.getWest(), e = b.getEast();
      if (e - w >= 360) { w = -180; e = 180; }
      const wrap = (x) => ((((x + 180) % 360) + 360) % 360) - 180;
      document.getElementById("bbox").value = [wrap(w), clamp(b.getSouth(), -90, 90), wrap(e), clamp(b.getNorth(), -90, 90)]
        .map((x) => x.toFixed(2)).join(",");
      refresh();
    }
    mapEl.after(use);
    document.getElementById("map-hint").hidden = false;
    drawExtents();
  }

  let pending = null;
  let generation = 0;
  async function refresh() {
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) params.set(k, v);
    const query = params.toString();
    const mine = ++generation;
    try {
      const r = await fetch(form.action + "?" + query, { headers: { Accept: "text/html" } });
      if (mine !== generation) return; // a newer search was sent
      const doc = new DOMParser().parseFromString(await r.text(), "text/html");
      const fresh = doc.getElementById("results");
      if (!fresh) {
        const msg = doc.querySelector(".error");
        results.innerHTML = "";
        const p = document.createElement("p");
        p.className = "error";
        p.textContent = msg ? msg.textContent : "search failed";
        results.appendChild(p);
        return;
      }
      results.innerHTML = fresh.innerHTML;
      // The facets' counts follow the other filters.
      for (const sel of form.querySelectorAll(".facet select")) {
        const next = doc.getElementById(sel.id);
        if (next) sel.innerHTML = next.innerHTML;
      }
      history.replaceState(null, "", query ? form.action + "?" + query : form.action);
      drawExtents();
    } catch (e) {
      console.warn("search", e);
    }
  }

  form.addEventListener("input", (ev) => {
    if (ev.target.tagName === "SELECT") return;
    clearTimeout(pending);
    pending = setTimeout(refresh, 250);
  });
  form.addEventListener("change", (ev) => {
    if (ev.target.tagName === "SELECT" || ev.target.type === "date") refresh();
  });
  form.addEventListener("submit", (ev) => { ev.preventDefault(); refresh(); });
})();
