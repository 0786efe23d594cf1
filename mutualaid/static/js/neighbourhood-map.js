/* Progressive enhancement for "who needs help nearby": a Leaflet map of our own neighbourhood
   boundaries (no tile server needed; tiles only when MAP_TILE_URL is configured). The
   neighbourhoods with open requests on the page are shaded; clicking one filters the list by
   choosing it in the neighbourhood select and submitting the (plain GET) form. Without
   JavaScript the list and its filters work the same. */
(function () {
  "use strict";
  var box = document.getElementById("requests-map");
  if (!box || typeof L === "undefined" || !window.fetch) { return; }
  var url = box.getAttribute("data-features");
  if (!url) { return; }
  var counts = JSON.parse(box.getAttribute("data-counts") || "{}");
  var countLabel = box.getAttribute("data-count-label") || "";
  var select = document.getElementById("neighbourhood_id");
  box.hidden = false;
  var map = L.map(box, { scrollWheelZoom: false, zoomSnap: 0.25 });
  var tiles = box.getAttribute("data-tiles");
  if (tiles) { L.tileLayer(tiles, { maxZoom: 19 }).addTo(map); }

  function chooseNeighbourhood(name) {
    if (!select) { return; }
    for (var i = 0; i < select.options.length; i += 1) {
      if (select.options[i].text === name) {
        select.selectedIndex = i;
        select.form.submit();
        return;
      }
    }
  }

  fetch(url, { credentials: "same-origin" })
    .then(function (response) { return response.json(); })
    .then(function (features) {
      var layer = L.geoJSON(features, {
        style: function (feature) {
          var n = counts[feature.properties.name] || 0;
          return { color: "#0b4f8a", weight: n ? 3 : 1, fillColor: n ? "#ffbf47" : "#0b4f8a",
                   fillOpacity: n ? 0.55 : 0.06 };
        },
        onEachFeature: function (feature, shape) {
          var n = counts[feature.properties.name] || 0;
          shape.bindTooltip(feature.properties.name + (n ? " · " + n + " " + countLabel : ""));
          shape.on("click", function () { chooseNeighbourhood(feature.properties.name); });
        }
      }).addTo(map);
      var shaded = layer.getLayers().filter(function (shape) {
        return counts[shape.feature.properties.name];
      });
      map.fitBounds(shaded.length ? L.featureGroup(shaded).getBounds().pad(0.5) : layer.getBounds());
    })
    .catch(function () { box.hidden = true; });
}());
