(function () {
  var el = document.getElementById('carte');
  var d = window.QPVGEO_FICHE;
  if (typeof L === 'undefined') { return; }
  var map = L.map(el, {zoomSnap: 0.25, scrollWheelZoom: false});
  L.tileLayer(d.tiles, {maxZoom: 19, opacity: 0.6, attribution: d.attribution}).addTo(map);
  var overlays = {};
  d.layers.forEach(function (layer, i) {
    var pane = map.createPane('p' + i);
    pane.style.zIndex = 400 + i;
    if (layer.passive) { pane.style.pointerEvents = 'none'; }
    var styleOf = function (f) {
      var k = f.properties.k;
      return Object.assign({pane: 'p' + i}, layer.style,
                           (layer.styles && k !== undefined) ? layer.styles[k] : {});
    };
    var g = L.geoJSON(layer.data, {
      pane: 'p' + i,
      interactive: !layer.passive,
      style: styleOf,
      pointToLayer: function (f, ll) { return L.circleMarker(ll, styleOf(f)); },
      onEachFeature: function (f, l) {
        if (f.properties.t) { l.bindTooltip(f.properties.t, {sticky: true}); }
      }
    });
    if (!layer.hidden) { g.addTo(map); }
    overlays[layer.name] = g;
  });
  L.control.layers(null, overlays, {collapsed: true}).addTo(map);
  L.control.scale({imperial: false}).addTo(map);
  map.fitBounds(d.bounds, {padding: [12, 12]});
  window.addEventListener('load', function () {
    map.invalidateSize();
    map.fitBounds(d.bounds, {padding: [12, 12]});
  });
})();
