/* The directors' dashboard: charts drawn from the JSON the page carries (no inline script).
   Every chart has its table on the page; these are views of the same numbers. */
(function () {
  "use strict";
  var node = document.getElementById("report-data");
  if (!node || !window.echarts) { return; }
  var data = JSON.parse(node.textContent);
  var names = data.names || {};
  function label(k) { return names[k] || k; }
  var charts = [];
  function chart(id) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    var c = echarts.init(el, null, { renderer: "svg" });
    charts.push(c);
    return c;
  }
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });

  // world map: the GeoJSON is vendored (world-atlas), features named by ISO alpha-2
  var map = chart("map");
  if (map) {
    fetch(data.geojson).then(function (r) { return r.json(); }).then(function (geo) {
      echarts.registerMap("world", geo);
      var max = Math.max.apply(null, data.map.map(function (d) { return d.value; }).concat([1]));
      map.setOption({
        tooltip: { trigger: "item", formatter: function (p) { return label(p.name) + ": " + (p.value === p.value ? p.value : 0); } },
        visualMap: { min: 0, max: max, left: "left", bottom: 0, calculable: true, inRange: { color: ["#e0ecf4", "#08519c"] } },
        series: [{ type: "map", map: "world", roam: true, name: data.unit, data: data.map,
                   emphasis: { label: { show: false } } }]
      });
      document.getElementById("map").setAttribute("data-ready", "1");
    });
  }

  // time series: the ten leading keys
  var series = chart("series");
  if (series) {
    var years = Object.keys(data.series).sort();
    var totals = {};
    years.forEach(function (y) { Object.keys(data.series[y]).forEach(function (k) { totals[k] = (totals[k] || 0) + data.series[y][k]; }); });
    var top = Object.keys(totals).sort(function (a, b) { return totals[b] - totals[a]; }).slice(0, 10);
    series.setOption({
      tooltip: { trigger: "axis" }, legend: { type: "scroll", top: 0 },
      xAxis: { type: "category", data: years }, yAxis: { type: "value" },
      series: top.map(function (k) { return { type: "line", name: label(k), data: years.map(function (y) { return data.series[y][k] || 0; }) }; })
    });
  }

  // country-pair matrix (heatmap) and the network (circular graph, chord-like)
  var matrix = chart("matrix");
  if (matrix) {
    var keys = data.matrix.keys.map(label);
    var vmax = Math.max.apply(null, data.matrix.cells.map(function (c) { return c[2]; }).concat([1]));
    matrix.setOption({
      tooltip: { formatter: function (p) { return keys[p.value[0]] + " – " + keys[p.value[1]] + ": " + p.value[2]; } },
      grid: { left: 110, bottom: 90 },
      xAxis: { type: "category", data: keys, axisLabel: { rotate: 60 } }, yAxis: { type: "category", data: keys },
      visualMap: { min: 0, max: vmax, show: false, inRange: { color: ["#e0ecf4", "#08519c"] } },
      series: [{ type: "heatmap", data: data.matrix.cells }]
    });
  }
  var graph = chart("graph");
  if (graph) {
    var nodes = {};
    data.links.forEach(function (l) { nodes[l.source] = (nodes[l.source] || 0) + l.value; nodes[l.target] = (nodes[l.target] || 0) + l.value; });
    graph.setOption({
      tooltip: {},
      series: [{ type: "graph", layout: "circular", circular: { rotateLabel: true }, label: { show: true, position: "right" },
                 data: Object.keys(nodes).map(function (k) { return { name: k, value: nodes[k], symbolSize: 6 + Math.sqrt(nodes[k]) * 4, label: { formatter: label(k) } }; }),
                 links: data.links.map(function (l) { return { source: l.source, target: l.target, value: l.value, lineStyle: { width: 1 + l.value, opacity: 0.5, curveness: 0.3 } }; }) }]
    });
  }

  // fair return: ratio per member, one bar per year
  var fair = chart("fair");
  if (fair) {
    var fy = Array.from(new Set(data.fair_return.map(function (r) { return r.year; }))).sort();
    var members = Array.from(new Set(data.fair_return.map(function (r) { return r.name; })));
    fair.setOption({
      tooltip: { trigger: "axis" }, legend: { top: 0 },
      xAxis: { type: "category", data: members }, yAxis: { type: "value", name: "ratio" },
      series: fy.map(function (y) {
        return { type: "bar", name: String(y), data: members.map(function (m) {
          var row = data.fair_return.find(function (r) { return r.year === y && r.name === m; });
          return row && row.ratio !== null ? Number(row.ratio.toFixed(3)) : 0; }),
          markLine: { silent: true, symbol: "none", data: [{ yAxis: 1 }] } };
      })
    });
  }

  // instruments: oversubscription and foreign share
  var instr = chart("instruments-chart");
  if (instr) {
    var rows = data.instruments;
    instr.setOption({
      tooltip: { trigger: "axis" }, legend: { top: 0 },
      xAxis: { type: "category", data: rows.map(function (r) { return r.instrument + " " + r.cycle; }), axisLabel: { rotate: 45 } },
      yAxis: [{ type: "value", name: "×" }, { type: "value", name: "%", max: 100 }],
      grid: { bottom: 90 },
      series: [
        { type: "bar", name: "oversubscription", data: rows.map(function (r) { return r.oversubscription === null ? 0 : Number(r.oversubscription.toFixed(2)); }) },
        { type: "line", name: "foreign share %", yAxisIndex: 1, data: rows.map(function (r) { return r.foreign_share === null ? 0 : Math.round(r.foreign_share * 1000) / 10; }) }
      ]
    });
  }
})();
