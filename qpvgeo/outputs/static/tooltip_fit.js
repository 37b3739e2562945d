/* Keep every tooltip inside the window: Leaflet centres a tooltip on the pointer, so a
   tall one near an edge runs off the screen. After Leaflet places it, move it back in. */
if (typeof L !== 'undefined' && !L.Tooltip.prototype._qpvgeoFit) {
  L.Tooltip.prototype._qpvgeoFit = true;
  var qpvgeoPlace = L.Tooltip.prototype._setPosition;
  L.Tooltip.prototype._setPosition = function (pos) {
    qpvgeoPlace.call(this, pos);
    var el = this._container, map = this._map;
    if (!el || !map) { return; }
    var size = map.getSize(), at = L.DomUtil.getPosition(el);
    var c = map.layerPointToContainerPoint(at), w = el.offsetWidth, h = el.offsetHeight;
    var dx = 0, dy = 0, m = 4;
    if (c.y + h > size.y - m) { dy = size.y - m - h - c.y; }
    if (c.y + dy < m) { dy = m - c.y; }
    if (c.x + w > size.x - m) { dx = size.x - m - w - c.x; }
    if (c.x + dx < m) { dx = m - c.x; }
    if (dx || dy) { L.DomUtil.setPosition(el, at.add(L.point(dx, dy))); }
  };
}
