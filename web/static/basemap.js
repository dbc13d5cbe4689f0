// A base map that needs no internet: a sea-coloured background with a graticule
// every 30° (every 10° when zoomed in), and the extent of the data outlined.
"use strict";
window.datagateMap = function (element, options) {
  const map = L.map(element, Object.assign({ worldCopyJump: true, minZoom: 1, maxZoom: 12 }, options || {}));
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  const graticule = L.layerGroup().addTo(map);
  function draw() {
    graticule.clearLayers();
    const step = map.getZoom() >= 4 ? 10 : 30;
    const style = { color: "#7b8fa3", weight: 1, opacity: 0.6, interactive: false };
    for (let lon = -540; lon <= 540; lon += step) {
      L.polyline([[-85, lon], [85, lon]], style).addTo(graticule);
    }
    for (let lat = -80; lat <= 80; lat += step) {
      L.polyline([[lat, -540], [lat, 540]], lat === 0 ? Object.assign({}, style, { weight: 2 }) : style).addTo(graticule);
    }
  }
  map.on("zoomend", draw);
  map.setView([20, 0], 1);
  draw();
  return map;
};
// Leaflet bounds of a [west, south, east, north] box.
window.datagateBounds = function (b) {
  const east = b[2] < b[0] ? b[2] + 360 : b[2];
  return L.latLngBounds([b[1], b[0]], [b[3], east]);
};
