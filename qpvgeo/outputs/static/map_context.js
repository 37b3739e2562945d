/* The place context of a map (qpvgeo.outputs.maps.context): commune lines and names,
   the other QPV, labels shown by zoom, a click on a QPV opening its fiche, markers
   hidden at low zoom on a map of many QPV. `map` is the Leaflet map, `d` the data. */
[['qpvgeo-communes', 250, false], ['qpvgeo-voisins', 395, true], ['qpvgeo-noms', 630, false],
 ['qpvgeo-labels', 640, true]]
  .forEach(function (p) {
    var el = map.createPane(p[0]);
    el.style.zIndex = p[1];
    if (!p[2]) { el.style.pointerEvents = 'none'; }
  });
var open = function (href) { window.location.href = href; };
if (d.communes) {
  L.geoJSON(d.communes, {pane: 'qpvgeo-communes', interactive: false,
    style: {color: '#555555', weight: 1.5, opacity: 0.8, dashArray: '6 4', fill: false}}).addTo(map);
}
if (d.voisins) {
  L.geoJSON(d.voisins, {pane: 'qpvgeo-voisins',
    style: {color: '#6b6b6b', weight: 1.5, dashArray: '3 3', fillColor: '#c7c7c7', fillOpacity: 0.3},
    onEachFeature: function (f, l) {
      l.bindTooltip(f.properties.t, {sticky: true});
      if (f.properties.code && d.fiches[f.properties.code]) {
        l.on('click', function () { open(d.fiches[f.properties.code]); });
      }
    }}).addTo(map);
}
var labels = d.labels.map(function (x) {
  var inner = x.href ? '<a href="' + x.href + '">' + x.h + '</a>' : x.h;
  var mk = L.marker([x.lat, x.lon], {pane: x.k === 'commune' ? 'qpvgeo-noms' : 'qpvgeo-labels', interactive: !!x.href, keyboard: false,
    icon: L.divIcon({className: 'qpvgeo-lab qpvgeo-lab-' + x.k, html: '<span>' + inner + '</span>',
                     iconSize: null})});
  if (x.href) { mk.on('click', function () { open(x.href); }); }
  return {z: x.z || 0, m: mk, rank: {qpv: 0, voisin: 1, commune: 2}[x.k] || 0};
});
// labels that would overlap: a QPV label of the run is moved a line up or down, other labels
// are hidden (the other QPV, then the communes yield first); a closer zoom shows them again
var order = labels.slice().sort(function (a, b) { return a.rank - b.rank; });
var declutter = function () {
  var kept = [];
  var free = function (r, dy) {
    return !kept.some(function (k) {
      return r.left < k.right && r.right > k.left && r.top + dy < k.bottom && r.bottom + dy > k.top;
    });
  };
  order.forEach(function (x) {
    var el = map.hasLayer(x.m) && x.m.getElement();
    var span = el && el.firstChild;
    if (!span) { return; }
    span.style.visibility = '';
    span.style.marginTop = '';
    var r = span.getBoundingClientRect(), h = r.height + 2;
    var tries = x.rank === 0 ? [0, h, -h, 2 * h, -2 * h, 3 * h, -3 * h] : [0];
    var dy = tries.filter(function (t) { return free(r, t); })[0];
    if (dy === undefined) { span.style.visibility = 'hidden'; return; }
    if (dy) { span.style.marginTop = dy + 'px'; }
    kept.push({left: r.left, right: r.right, top: r.top + dy, bottom: r.bottom + dy});
  });
};
var bind = function (l) {
  var p = l && l.feature && l.feature.properties;
  if (p && p.code && d.fiches[p.code] && !l._qpvgeoFiche) {
    l._qpvgeoFiche = true;
    l.on('click', function () { open(d.fiches[p.code]); });
  }
};
map.eachLayer(bind);
map.on('layeradd', function (e) { bind(e.layer); });
var hint = null;
if (d.hide) {
  hint = L.DomUtil.create('div', 'qpvgeo-hint', map.getContainer());
  hint.textContent = d.hide.text;
}
var zoomed = function () {
  var z = map.getZoom();
  // at the scale of a département, QPV names only (their codes come back closer)
  map.getContainer().classList.toggle('qpvgeo-loin', z < 12);
  labels.forEach(function (x) {
    if (z >= x.z) { if (!map.hasLayer(x.m)) { x.m.addTo(map); } }
    else if (map.hasLayer(x.m)) { map.removeLayer(x.m); }
  });
  if (d.hide) {
    var pane = map.getPane(d.hide.pane), on = z >= d.hide.zoom;
    if (pane) { pane.style.display = on ? '' : 'none'; }
    hint.style.display = on ? 'none' : '';
  }
  declutter();
};
map.on('zoomend', zoomed);
map.whenReady(zoomed);
