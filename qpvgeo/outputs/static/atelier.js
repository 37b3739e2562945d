/* qpvgeo « mode atelier »: pin what residents say on the map, keep the pins in the browser
   (localStorage), export them as a GeoJSON file that `qpvgeo run --besoins FILE` reads.
   Offline, no server. Configured by window.QPVGEO_ATELIER (qpvgeo.outputs.habitants). */
(function () {
  'use strict';
  if (typeof L === 'undefined' || !window.QPVGEO_ATELIER) { return; }
  var cfg = window.QPVGEO_ATELIER;
  var maps = [];
  L.Map.addInitHook(function () { maps.push(this); });  // the page's map, once it is created
  var COLOURS = {besoin: '#2b8a3e', frein: '#c92a2a', lieu_evite: '#862e9c'};
  var KEY = 'qpvgeo-atelier:' + cfg.code;

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
    });
  }
  function labelOf(list, code) {
    for (var i = 0; i < list.length; i++) { if (list[i][0] === code) { return list[i][1]; } }
    return code;
  }
  function options(list, empty) {
    var html = empty ? '<option value="">' + esc(empty) + '</option>' : '';
    list.forEach(function (kv) {
      html += '<option value="' + esc(kv[0]) + '">' + esc(kv[1]) + '</option>';
    });
    return html;
  }

  var store = {
    ok: true,
    load: function () {
      try { return JSON.parse(window.localStorage.getItem(KEY) || '[]'); } catch (e) { this.ok = false; return []; }
    },
    save: function (pins) {
      try { window.localStorage.setItem(KEY, JSON.stringify(pins)); } catch (e) { this.ok = false; }
    }
  };

  function today() {
    var d = new Date();
    var p = function (n) { return (n < 10 ? '0' : '') + n; };
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate());
  }
  function newId() {
    return 'atelier-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 8);
  }

  /** The pins as a GeoJSON FeatureCollection (EPSG:4326), one feature per pin. */
  function geojson(pins) {
    return {
      type: 'FeatureCollection',
      name: 'besoins_atelier_' + cfg.code,
      features: pins.map(function (p) {
        return {
          type: 'Feature',
          geometry: {type: 'Point', coordinates: [p.lon, p.lat]},
          properties: {
            id: p.id, code_qp: cfg.code, type: p.type, categorie: p.categorie,
            frein: p.frein, commentaire: p.commentaire, source: 'atelier', date: p.date,
            nombre: p.nombre
          }
        };
      })
    };
  }

  function start() {
    var map = maps[0];
    if (!map) { return; }
    var pins = store.load();
    var layer = L.layerGroup().addTo(map);
    var active = false;
    var box = L.DomUtil.create('div', 'qpvgeo-atelier leaflet-bar');
    box.innerHTML =
      '<button type="button" class="bascule" aria-pressed="false">Mode atelier : désactivé</button>' +
      '<div class="outils"><div class="aide">Cliquez sur la carte pour ajouter un besoin, un frein ' +
      'ou un lieu évité.</div><div class="compte"></div>' +
      '<button type="button" class="exporter">Exporter les épingles (GeoJSON)</button> ' +
      '<button type="button" class="effacer">Tout effacer</button>' +
      '<div class="stockage"></div><textarea class="texte" readonly ' +
      'title="Si le téléchargement ne démarre pas : copier ce texte dans un fichier .geojson">' +
      '</textarea></div>';
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    var Ctl = L.Control.extend({onAdd: function () { return box; }});
    new Ctl({position: 'topleft'}).addTo(map);
    var toggle = box.querySelector('.bascule');

    function tip(p) {
      var what = p.categorie ? labelOf(cfg.categories, p.categorie) : labelOf(cfg.freins, p.frein);
      return esc(labelOf(cfg.types, p.type) + ' : ' + (what || '') +
                 (p.commentaire ? ' — ' + p.commentaire : '') + ' (' + p.nombre + ')');
    }
    function draw() {
      layer.clearLayers();
      pins.forEach(function (p) {
        var m = L.circleMarker([p.lat, p.lon], {
          radius: 8, weight: 2, color: '#ffffff', fillColor: COLOURS[p.type] || '#555',
          fillOpacity: 0.95, bubblingMouseEvents: false
        }).bindTooltip(tip(p));
        m.on('click', function () {
          if (!active) { return; }
          var div = L.DomUtil.create('div', 'atelier-form');
          div.innerHTML = '<div>' + tip(p) + '</div><button type="button" class="supprimer">Supprimer</button>';
          div.querySelector('.supprimer').onclick = function () {
            pins = pins.filter(function (q) { return q.id !== p.id; });
            store.save(pins); draw(); map.closePopup();
          };
          L.popup().setLatLng(m.getLatLng()).setContent(div).openOn(map);
        });
        layer.addLayer(m);
      });
      box.querySelector('.compte').textContent = pins.length + ' épingle(s) dans ce navigateur';
      box.querySelector('.stockage').textContent = store.ok ? '' :
        'Attention : ce navigateur ne conserve pas les épingles ; exportez-les avant de fermer la page.';
    }

    function setActive(on) {
      active = on;
      toggle.setAttribute('aria-pressed', on ? 'true' : 'false');
      toggle.textContent = 'Mode atelier : ' + (on ? 'activé' : 'désactivé');
      box.classList.toggle('actif', on);
      map.getContainer().classList.toggle('atelier-actif', on);
      if (!on) { map.closePopup(); }
    }
    toggle.addEventListener('click', function () { setActive(!active); });

    function form(latlng) {
      var div = L.DomUtil.create('div', 'atelier-form');
      div.innerHTML =
        '<label>Type <select name="type">' + options(cfg.types) + '</select></label>' +
        '<label>Catégorie souhaitée <select name="categorie">' +
        options(cfg.categories, '(aucune)') + '</select></label>' +
        '<label>Frein <select name="frein">' + options(cfg.freins, '(aucun)') + '</select></label>' +
        '<label>Commentaire <input name="commentaire" type="text" maxlength="200"></label>' +
        '<label>Nombre de personnes <input name="nombre" type="number" min="1" value="1"></label>' +
        '<button type="button" class="ajouter">Ajouter</button> ' +
        '<button type="button" class="annuler">Annuler</button>';
      div.querySelector('.annuler').onclick = function () { map.closePopup(); };
      div.querySelector('.ajouter').onclick = function () {
        var get = function (n) { return div.querySelector('[name="' + n + '"]').value; };
        var pin = {
          id: newId(), type: get('type'), categorie: get('categorie'), frein: get('frein'),
          commentaire: get('commentaire').trim(), nombre: Math.max(1, parseInt(get('nombre'), 10) || 1),
          lon: Math.round(latlng.lng * 1e6) / 1e6, lat: Math.round(latlng.lat * 1e6) / 1e6,
          date: today()
        };
        if (pin.type === 'besoin' && !pin.categorie) {
          div.querySelector('[name="categorie"]').focus();
          return;
        }
        pins.push(pin);
        store.save(pins);
        draw();
        map.closePopup();
      };
      // kept clear of this box (top left): the map pans the form to its right
      L.popup({minWidth: 240, autoPanPaddingTopLeft: [box.offsetWidth + 20, 20]})
        .setLatLng(latlng).setContent(div).openOn(map);
    }
    map.on('click', function (e) { if (active) { form(e.latlng); } });

    box.querySelector('.exporter').addEventListener('click', function () {
      var text = JSON.stringify(geojson(pins), null, 1);
      var area = box.querySelector('.texte');
      area.value = text;
      area.classList.add('montre');
      var a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([text], {type: 'application/geo+json'}));
      a.download = 'besoins_atelier_' + cfg.code + '_' + today() + '.geojson';
      document.body.appendChild(a);
      a.click();
      setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    });
    box.querySelector('.effacer').addEventListener('click', function () {
      if (!pins.length || !window.confirm('Effacer les ' + pins.length +
          ' épingles de ce navigateur ? (exportez-les d\'abord)')) { return; }
      pins = [];
      store.save(pins);
      draw();
    });
    draw();
    window.qpvgeoAtelier = {pins: function () { return pins.slice(); }, geojson: function () { return geojson(pins); }};
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    setTimeout(start, 0);
  }
})();
