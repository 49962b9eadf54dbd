// The workbook page: reads /workbook/api/summary and draws the tiles. Every string from the summary
// comes from alerts and is hostile: it only ever reaches the page through textContent or an attribute.
(function () {
  'use strict';
  var wb = window.workbook = { charts: {}, cspViolations: [], summary: null };
  document.addEventListener('securitypolicyviolation', function (e) {
    wb.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
  });

  // Okabe-Ito colours: told apart with colour-blindness, and each dark enough on white.
  var palette = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#555555', '#F0E442'];
  var heat = ['#f2f2f2', '#deebf7', '#9ecae1', '#2171b5', '#08306b'];
  var HOUR = 3600e3, DAY = 24 * HOUR;
  var presets = { '24h': DAY, '7d': 7 * DAY, '30d': 30 * DAY, '90d': 90 * DAY };

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }
  // safeURL keeps only http(s) links, so a javascript: URL in the data cannot run.
  function safeURL(u) {
    if (!u) return '';
    try {
      var x = new URL(u, location.href);
      return x.protocol === 'https:' || x.protocol === 'http:' ? x.href : '';
    } catch (err) { return ''; }
  }
  function link(url, text) {
    var u = safeURL(url);
    if (!u) return document.createTextNode(text);
    var a = el('a', { href: u, rel: 'noopener noreferrer' }, text);
    return a;
  }
  function runsLink(tile, url) {
    var a = tile.querySelector('a.runs');
    if (!a) return;
    var u = safeURL(url);
    a.hidden = !u;
    if (u) { a.href = u; a.rel = 'noopener noreferrer'; } else a.removeAttribute('href');
  }
  function fillTable(t, caption, headers, rows) {
    clear(t);
    if (caption) t.appendChild(el('caption', {}, caption));
    var tr = el('tr');
    headers.forEach(function (h) { tr.appendChild(el('th', { scope: 'col' }, h)); });
    t.appendChild(el('thead')).appendChild(tr);
    var body = t.appendChild(el('tbody'));
    rows.forEach(function (r) {
      var row = body.appendChild(el('tr'));
      r.forEach(function (c) {
        var td = row.appendChild(el('td'));
        if (c instanceof Node) td.appendChild(c); else td.textContent = String(c);
      });
    });
    if (!rows.length) {
      var empty = body.appendChild(el('tr')).appendChild(el('td', { colspan: String(headers.length) }, 'None in this range.'));
      empty.className = 'empty';
    }
    return t;
  }
  function when(t, bucket) {
    var d = new Date(t);
    return bucket === 'hour'
      ? d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })
      : d.toLocaleDateString([], { year: 'numeric', month: 'short', day: 'numeric' });
  }
  function duration(s) {
    if (!s) return '–';
    if (s < 120) return Math.round(s) + ' s';
    if (s < 7200) return Math.round(s / 60) + ' min';
    return (s / 3600).toFixed(1) + ' h';
  }

  // chartTile draws one chart into its tile, with the same numbers in a table under <details>.
  function chartTile(name, cfg, headers, rows, url) {
    var tile = document.querySelector('[data-chart="' + name + '"]');
    var title = tile.querySelector('h2').textContent;
    var box = tile.querySelector('.chart');
    if (!box) {
      box = tile.appendChild(el('div', { 'class': 'chart' }));
      box.appendChild(el('canvas', { role: 'img', id: 'chart-' + name }));
      var det = tile.appendChild(el('details'));
      det.appendChild(el('summary', {}, 'Show the numbers as a table'));
      det.appendChild(el('table', { 'class': 'data', id: 'table-' + name }));
      tile.appendChild(el('a', { 'class': 'runs', hidden: '' }, 'Runs in Temporal'));
    }
    var canvas = box.querySelector('canvas');
    var total = cfg.data.datasets.reduce(function (n, d) { return n + d.data.reduce(function (a, b) { return a + b; }, 0); }, 0);
    canvas.setAttribute('aria-label', title + ': ' + total + ' in all; the numbers are in the table below.');
    canvas.dataset.values = JSON.stringify({ labels: cfg.data.labels, datasets: cfg.data.datasets.map(function (d) { return { label: d.label, data: d.data }; }) });
    fillTable(tile.querySelector('table.data'), title, headers, rows);
    runsLink(tile, url);
    if (wb.charts[name]) wb.charts[name].destroy();
    cfg.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false, layout: { padding: { left: 6 } } }, cfg.options || {});
    wb.charts[name] = new window.Chart(canvas, cfg);
  }

  // shortTick keeps a long key from pushing the bars off a phone's screen; the table has it whole.
  function shortTick(v) {
    var l = String(this.getLabelForValue(v));
    return l.length > 24 ? l.slice(0, 23) + '…' : l;
  }

  function barChart(name, counts, label, url) {
    var labels = counts.map(function (c) { return c.key; });
    var data = counts.map(function (c) { return c.count; });
    chartTile(name, {
      type: 'bar',
      data: { labels: labels, datasets: [{ label: label, data: data, backgroundColor: palette[0] }] },
      options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { ticks: { callback: shortTick } } } }
    }, ['Key', label], counts.map(function (c) { return [c.key, c.count]; }), url);
  }

  function overTime(s) {
    var b = s.range.bucket;
    var pts = s.alertsOverTime || [], inc = s.incidentsOverTime || [];
    var labels = pts.map(function (p) { return when(p.t, b); });
    chartTile('overTime', {
      type: 'line',
      data: { labels: labels, datasets: [
        { label: 'Alerts', data: pts.map(function (p) { return p.count; }), borderColor: palette[0], backgroundColor: palette[0], pointRadius: 2 },
        { label: 'Incidents', data: inc.map(function (p) { return p.count; }), borderColor: palette[1], backgroundColor: palette[1], pointRadius: 2, borderDash: [6, 3] }
      ] },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    }, ['Bucket', 'Alerts', 'Incidents'], pts.map(function (p, i) { return [labels[i], p.count, inc[i] ? inc[i].count : 0]; }), s.links.allRuns);
  }

  function tactics(s) {
    var series = s.tacticsOverTime || [];
    var first = series.length ? series[0].points : [];
    var labels = first.map(function (p) { return when(p.t, s.range.bucket); });
    chartTile('tactics', {
      type: 'bar',
      data: { labels: labels, datasets: series.map(function (x, i) {
        return { label: x.name, data: x.points.map(function (p) { return p.count; }), backgroundColor: palette[i % palette.length] };
      }) },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } }
    }, ['Bucket'].concat(series.map(function (x) { return x.name; })),
    labels.map(function (l, i) { return [l].concat(series.map(function (x) { return x.points[i].count; })); }), s.links.allRuns);
  }

  function playbooks(s) {
    var pbs = s.playbooks || [];
    chartTile('playbooks', {
      type: 'bar',
      data: { labels: pbs.map(function (p) { return p.playbook; }), datasets: [
        { label: 'Runs', data: pbs.map(function (p) { return p.runs; }), backgroundColor: palette[0] },
        { label: 'Open', data: pbs.map(function (p) { return p.open; }), backgroundColor: palette[4] }
      ] },
      options: { indexAxis: 'y', scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { ticks: { callback: shortTick } } } }
    }, ['Playbook', 'Runs', 'Open', 'Outcomes'], pbs.map(function (p) {
      return [link(p.url, p.playbook), p.runs, p.open, (p.outcomes || []).map(function (o) { return o.key + ': ' + o.count; }).join(', ')];
    }), s.links.allRuns);
  }

  function dl(target, items) {
    clear(target);
    items.forEach(function (it) {
      var div = target.appendChild(el('div'));
      div.appendChild(el('dt', {}, it[0]));
      div.appendChild(el('dd', { 'data-key': it[1] }, it[2]));
    });
  }

  function matrix(s) {
    var tactics = s.matrix || [];
    var max = 0;
    tactics.forEach(function (t) { (t.techniques || []).forEach(function (q) { max = Math.max(max, q.count); }); });
    var t = clear(document.getElementById('matrix'));
    t.appendChild(el('caption', {}, 'Alerts per technique, one column per tactic; darker is more.'));
    var head = t.appendChild(el('thead')).appendChild(el('tr'));
    var rows = 0;
    tactics.forEach(function (x) {
      var th = head.appendChild(el('th', { scope: 'col', 'data-tactic': x.id, 'data-count': String(x.count) }));
      th.appendChild(el('span', { 'class': 'name' }, x.name));
      th.appendChild(el('span', { 'class': 'count' }, x.count));
      rows = Math.max(rows, (x.techniques || []).length);
    });
    var body = t.appendChild(el('tbody'));
    for (var i = 0; i < rows; i++) {
      var tr = body.appendChild(el('tr'));
      tactics.forEach(function (x) {
        var q = (x.techniques || [])[i];
        if (!q) { tr.appendChild(el('td', { 'class': 'none' })); return; }
        var lvl = q.count === 0 || max === 0 ? 0 : 1 + Math.min(3, Math.floor(q.count / max * 4 - 1e-9));
        var td = tr.appendChild(el('td', { 'class': 'lvl' + lvl, 'data-tactic': x.id, 'data-technique': q.id, 'data-count': String(q.count),
          title: q.id + ' ' + q.name + ': ' + q.count }));
        td.appendChild(link(q.url, q.name));
        td.appendChild(el('span', { 'class': 'id' }, q.id));
        td.appendChild(el('span', { 'class': 'count' }, q.count));
      });
    }
    var legend = clear(document.getElementById('matrix-legend'));
    legend.appendChild(document.createTextNode('Scale: '));
    ['none', '≤ ' + Math.ceil(max / 4), '≤ ' + Math.ceil(max / 2), '≤ ' + Math.ceil(max * 3 / 4), '≤ ' + max].forEach(function (label, i) {
      legend.appendChild(el('span', { 'class': 'key lvl' + i }, label));
    });
  }

  function render(s) {
    wb.summary = s;
    var links = s.links || {};
    s.links = links;
    var tot = s.totals;
    dl(document.getElementById('totals'), [['Alerts', 'alerts', tot.alerts], ['Incidents', 'incidents', tot.incidents],
      ['Open incidents', 'openIncidents', tot.openIncidents], ['Devices', 'devices', tot.devices], ['Playbook runs', 'runs', tot.runs]]);
    runsLink(document.getElementById('tile-totals'), links.allRuns);
    barChart('byType', s.alertsByType || [], 'Alerts', links.allRuns);
    barChart('bySeverity', s.alertsBySeverity || [], 'Alerts', links.allRuns);
    barChart('byDeviceType', s.alertsByDeviceType || [], 'Alerts', links.allRuns);
    barChart('byVendor', s.alertsByVendor || [], 'Alerts', links.allRuns);
    overTime(s);
    matrix(s);
    tactics(s);
    fillTable(document.getElementById('open-incidents'), '', ['Site', 'Line', 'Open', 'Highest severity', 'Impact', 'Assets'],
      (s.openIncidents || []).map(function (o) {
        return [link(o.url, o.site), o.line, o.count, o.highest, o.impact || '', (o.assets || []).join(', ')];
      }));
    runsLink(document.getElementById('tile-open'), links.openRuns);
    playbooks(s);
    var a = s.answers || {};
    dl(document.getElementById('answers'), [['Engineers asked', 'asked', a.asked || 0], ['Answered', 'answered', a.answered || 0],
      ['No answer', 'noAnswer', a.noAnswer || 0], ['Escalations', 'escalations', a.escalations || 0],
      ['Answered in (median)', 'median', duration(a.medianSeconds)], ['Answered in (p90)', 'p90', duration(a.p90Seconds)]]);
    runsLink(document.getElementById('tile-answers'), links.failedRuns);
    fillTable(document.getElementById('pending'), '', ['Incident', 'Title', 'Playbook', 'Devices', 'Round', 'Waiting since'],
      (a.pending || []).map(function (p) {
        return [link(p.url, p.incident), p.title, p.playbook, (p.devices || []).join(', '), p.round, new Date(p.waitingSince).toLocaleString()];
      }));
    runsLink(document.getElementById('tile-pending'), links.pendingRuns);
  }

  function localInput(d) {
    var z = new Date(d.getTime() - d.getTimezoneOffset() * 60e3);
    return z.toISOString().slice(0, 16);
  }
  function currentRange() {
    var preset = document.getElementById('range-preset').value;
    var to = new Date(), from;
    if (preset === 'custom') {
      from = new Date(document.getElementById('range-from').value);
      to = new Date(document.getElementById('range-to').value);
    } else {
      from = new Date(to.getTime() - presets[preset]);
    }
    if (isNaN(from) || isNaN(to) || from >= to) return null;
    return { from: from, to: to, bucket: to - from <= 2 * DAY ? 'hour' : 'day' };
  }

  function load() {
    var status = document.getElementById('status');
    var r = currentRange();
    if (!r) { status.textContent = 'Choose a start before the end.'; return; }
    document.body.dataset.ready = '0';
    status.textContent = 'Loading…';
    var began = performance.now(), fetched = 0;
    var q = '?from=' + encodeURIComponent(r.from.toISOString()) + '&to=' + encodeURIComponent(r.to.toISOString()) + '&bucket=' + r.bucket;
    fetch('/workbook/api/summary' + q, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (res) {
        if (res.status === 401) { location.assign('/workbook/login'); throw new Error('signed out'); }
        if (!res.ok) throw new Error('the summary answered ' + res.status);
        return res.json();
      })
      .then(function (s) {
        fetched = performance.now();
        wb.summary = s; // what was drawn, for tests and the console
        render(s);
        // Where a load's time went, for the page-load benchmark and the console.
        wb.timing = { fetchMs: fetched - began, renderMs: performance.now() - fetched };
        status.textContent = 'Showing ' + r.from.toLocaleString() + ' to ' + r.to.toLocaleString() + ', by ' + r.bucket + '.';
        wb.readyAt = performance.now();
        document.body.dataset.ready = '1';
      })
      .catch(function (err) { status.textContent = 'Could not load: ' + err.message; document.body.dataset.ready = 'error'; });
  }

  function start() {
    var form = document.getElementById('range'), preset = document.getElementById('range-preset');
    var now = new Date();
    document.getElementById('range-to').value = localInput(now);
    document.getElementById('range-from').value = localInput(new Date(now.getTime() - 7 * DAY));
    preset.addEventListener('change', function () {
      document.getElementById('custom-range').hidden = preset.value !== 'custom';
      if (preset.value !== 'custom') load();
    });
    form.addEventListener('submit', function (e) { e.preventDefault(); load(); });
    // A closed <details> does not print: open them all for print, and put them back after.
    var opened = [];
    window.addEventListener('beforeprint', function () {
      opened = Array.prototype.filter.call(document.querySelectorAll('details'), function (d) { return !d.open; });
      opened.forEach(function (d) { d.open = true; });
      Object.keys(wb.charts).forEach(function (k) { wb.charts[k].resize(); });
    });
    window.addEventListener('afterprint', function () { opened.forEach(function (d) { d.open = false; }); });
    wb.load = load;
    load();
  }
  start();
})();
