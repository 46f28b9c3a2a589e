// The dashboard's charts. Each chart is drawn from the accessible <table>
// rendered under it: the table is the data (screen readers and phones read
// it), the chart a picture of it (aria-hidden). uPlot (vendored) is loaded
// only when a page has a chart. Tiles re-render themselves on live events
// (htmx swaps the whole tile), so charts are drawn on every htmx:load.
//
// <figure data-chart="bars|lines" data-uplot-src data-uplot-css>
//   <div class="chart" aria-hidden="true"></div>
//   <table> <thead> first th: the rows' label; th[data-series]: charted
//   columns; <tbody> rows: <th> label, <td data-value="minor units">.
(function () {
  "use strict";

  var loading = null;
  function loadUPlot(fig) {
    if (window.uPlot) return Promise.resolve();
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var css = document.createElement("link");
        css.rel = "stylesheet";
        css.href = fig.dataset.uplotCss;
        document.head.appendChild(css);
        var s = document.createElement("script");
        s.src = fig.dataset.uplotSrc;
        s.onload = resolve;
        s.onerror = reject;
        document.head.appendChild(s);
      });
    }
    return loading;
  }

  // read turns the table into uPlot's columns: x is the row index, each
  // charted column a series in major units (the cells carry minor units).
  function read(table) {
    var heads = table.querySelectorAll("thead th");
    var charted = [];
    Array.prototype.forEach.call(heads, function (th, i) {
      if (i > 0 && th.hasAttribute("data-series")) charted.push({ index: i - 1, name: th.textContent.trim() });
    });
    var labels = [], xs = [], cols = charted.map(function () { return []; });
    Array.prototype.forEach.call(table.querySelectorAll("tbody tr"), function (tr, row) {
      var th = tr.querySelector("th");
      labels.push(th ? th.textContent.trim() : "");
      xs.push(row);
      var tds = tr.querySelectorAll("td");
      charted.forEach(function (c, k) {
        var td = tds[c.index];
        cols[k].push(td ? Number(td.dataset.value) / 100 : null);
      });
    });
    return { head: heads.length ? heads[0].textContent.trim() : "", labels: labels, names: charted.map(function (c) { return c.name; }), data: [xs].concat(cols) };
  }

  var colours = ["#0f766e", "#1d4ed8", "#92400e"];

  function options(kind, d, width) {
    var lang = document.documentElement.lang || "es";
    var compact = new Intl.NumberFormat(lang, { notation: "compact", maximumFractionDigits: 1 });
    // About 10 px a character, and one left free so neighbours never touch.
    var room = Math.max(3, Math.floor(width / Math.max(1, d.labels.length) / 10) - 1);
    function fit(l) { return l.length <= room ? l : l.slice(0, room - 1) + "…"; }
    var series = [{ label: d.head }];
    d.names.forEach(function (name, i) {
      var s = { label: name, stroke: colours[i % colours.length], width: 2 };
      if (kind === "bars") {
        // Overlapping bars: the first (the whole) wide, the next (a part
        // of it, such as the weighted amount) narrower in front.
        s.fill = colours[i % colours.length] + (i === 0 ? "55" : "cc");
        s.paths = window.uPlot.paths.bars({ size: [i === 0 ? 0.7 : 0.35, 120] });
        s.points = { show: false };
      } else if (i > 0) {
        s.dash = [6, 4];
      }
      series.push(s);
    });
    return {
      width: width,
      height: width < 480 ? 200 : 260,
      series: series,
      // The legend names the series; the values are in the table.
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false, range: function () { return [-0.5, d.labels.length - 0.5]; } } },
      axes: [
        // Long labels (stage names) are shortened on narrow screens rather
        // than run into each other; the table under the chart has them whole.
        { incrs: [1], values: function (u, splits) { return splits.map(function (i) { return fit(d.labels[i] || ""); }); } },
        { size: 72, values: function (u, splits) { return splits.map(function (v) { return compact.format(v); }); } }
      ]
    };
  }

  function draw(fig) {
    if (fig.dataset.drawn) return;
    var box = fig.querySelector(".chart");
    var table = fig.querySelector("table");
    if (!box || !table) return;
    fig.dataset.drawn = "1";
    loadUPlot(fig).then(function () {
      var d = read(table);
      if (!d.labels.length || !d.names.length) return;
      var plot = new window.uPlot(options(fig.dataset.chart, d, box.clientWidth || 320), d.data, box);
      if (window.ResizeObserver) {
        var ro = new ResizeObserver(function () {
          if (!box.isConnected) { ro.disconnect(); plot.destroy(); return; }
          plot.setSize({ width: box.clientWidth, height: box.clientWidth < 480 ? 200 : 260 });
        });
        ro.observe(box);
      }
    });
  }

  function init(root) {
    if (!root || !root.querySelectorAll) return;
    if (root.matches && root.matches("figure[data-chart]")) draw(root);
    Array.prototype.forEach.call(root.querySelectorAll("figure[data-chart]"), draw);
  }

  document.addEventListener("htmx:load", function (e) { init(e.detail && e.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
})();
