/* Progressive enhancement for the worker's "who is involved" page: draw the ~250 m blocks
   (never a home) on a Leaflet map. Without JavaScript the table below it says the same. */
(function () {
  "use strict";
  var box = document.getElementById("cells-map");
  if (!box || typeof L === "undefined") { return; }
  var cells = JSON.parse(box.getAttribute("data-cells") || "[]");
  if (!cells.length) { return; }
  box.hidden = false;
  var map = L.map(box, { scrollWheelZoom: false });
  var tiles = box.getAttribute("data-tiles");
  if (tiles) { L.tileLayer(tiles, { maxZoom: 18 }).addTo(map); }
  var max = Math.max.apply(null, cells.map(function (c) { return c.residents; }));
  var group = L.featureGroup();
  cells.forEach(function (c) {
    var shade = 0.2 + 0.6 * (c.residents / max);
    L.rectangle(c.bounds, { color: "#0b5394", weight: 2, fillOpacity: shade })
      .bindTooltip(
        c.residents + " " + box.getAttribute("data-label-residents") + " · " +
        c.helpers + " " + box.getAttribute("data-label-helpers") + " · " +
        c.requesters + " " + box.getAttribute("data-label-requesters"))
      .addTo(group);
  });
  var outline = box.getAttribute("data-outline");
  if (outline) {
    // The neighbourhood's public boundary, so the blocks have a place even without tiles.
    L.geoJSON(JSON.parse(outline), { style: { color: "#1a1a1a", weight: 3, fill: false } })
      .addTo(group);
  }
  group.addTo(map);
  map.fitBounds(group.getBounds(), { padding: [20, 20] });
}());
