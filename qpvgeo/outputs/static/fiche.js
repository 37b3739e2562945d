(function () {
  var el = document.getElementById('carte');
  var d = window.QPVGEO_FICHE;
  if (typeof L === 'undefined') { return; }
  var map = L.map(el, {zoomSnap: 0.25, scrollWheelZoom: false});
  window.QPVGEO_MAP = map;
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
  var c = d.context;
  if (c) {
    var cp = map.createPane('pc');
    cp.style.zIndex = 350;
    cp.style.pointerEvents = 'none';
    if (c.communes) {
      L.geoJSON(c.communes, {pane: 'pc', interactive: false, style: {color: '#555555',
        weight: 1.5, opacity: 0.8, dashArray: '6 4', fill: false}}).addTo(map);
    }
    if (c.voisins) {
      var pv = map.createPane('pv');
      pv.style.zIndex = 395;
      L.geoJSON(c.voisins, {pane: 'pv', style: {color: '#6b6b6b', weight: 1.5, dashArray: '3 3',
        fillColor: '#c7c7c7', fillOpacity: 0.3}, onEachFeature: function (f, l) {
          l.bindTooltip(f.properties.t, {sticky: true});
          if (f.properties.code && c.fiches[f.properties.code]) {
            l.on('click', function () { window.location.href = c.fiches[f.properties.code]; });
          }
        }}).addTo(map);
    }
    var pl = map.createPane('pl');
    pl.style.zIndex = 640;
    map.createPane('pn').style.zIndex = 630;
    c.labels.forEach(function (x) {
      var inner = x.href ? '<a href="' + x.href + '">' + x.h + '</a>' : x.h;
      L.marker([x.lat, x.lon], {pane: x.k === 'commune' ? 'pn' : 'pl', interactive: !!x.href, keyboard: false,
        icon: L.divIcon({className: 'qpvgeo-lab qpvgeo-lab-' + x.k,
                         html: '<span>' + inner + '</span>', iconSize: null})}).addTo(map);
    });
  }
  L.control.layers(null, overlays, {collapsed: true}).addTo(map);
  L.control.scale({imperial: false}).addTo(map);
  map.fitBounds(d.bounds, {padding: [12, 12]});
  window.addEventListener('load', function () {
    map.invalidateSize();
    map.fitBounds(d.bounds, {padding: [12, 12]});
  });
})();
