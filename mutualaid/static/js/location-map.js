/* Progressive enhancement for the address page: click your home on a Leaflet map drawn from our
   own neighbourhood boundaries (a tile layer only when one is configured). Without JavaScript
   the neighbourhood list on the same page does the job. */
(function () {
  "use strict";
  var box = document.getElementById("location-map");
  if (!box || typeof L === "undefined" || !window.fetch) { return; }
  var wrapper = box.closest(".needs-js");
  if (wrapper) { wrapper.hidden = false; }
  var latInput = document.getElementById("lat");
  var lonInput = document.getElementById("lon");
  var submit = document.getElementById("map-submit");
  var map = L.map(box, { scrollWheelZoom: false });
  var tiles = box.getAttribute("data-tiles");
  if (tiles) { L.tileLayer(tiles, { maxZoom: 19 }).addTo(map); }
  var marker = null;

  function place(latlng) {
    if (marker) { marker.setLatLng(latlng); }
    else {
      marker = L.circleMarker(latlng, { radius: 9, color: "#08375f", weight: 3,
                                        fillColor: "#ffbf47", fillOpacity: 1 }).addTo(map);
    }
    latInput.value = latlng.lat.toFixed(6);
    lonInput.value = latlng.lng.toFixed(6);
    submit.disabled = false;
  }

  fetch(box.getAttribute("data-features"), { credentials: "same-origin" })
    .then(function (response) { return response.json(); })
    .then(function (features) {
      var layer = L.geoJSON(features, {
        style: { color: "#0b4f8a", weight: 2, fillOpacity: 0.08 },
        onEachFeature: function (feature, shape) {
          shape.bindTooltip(feature.properties.name);
          shape.on("click", function (event) { place(event.latlng); });
        }
      }).addTo(map);
      map.fitBounds(layer.getBounds());
      var lat = parseFloat(box.getAttribute("data-lat"));
      var lon = parseFloat(box.getAttribute("data-lon"));
      if (!isNaN(lat) && !isNaN(lon)) {
        place(L.latLng(lat, lon));
        submit.disabled = true; // nothing changed yet
        map.setView([lat, lon], 15);
      }
    });
  map.on("click", function (event) { place(event.latlng); });
}());
