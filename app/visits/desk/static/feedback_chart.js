// Average feedback ratings per instrument and cycle (the table under the chart has the figures).
(function () {
  "use strict";
  var el = document.getElementById("feedback-chart");
  if (!el || !window.echarts) { return; }
  var data = JSON.parse(el.getAttribute("data-chart"));
  var keys = ["instrument", "support", "accommodation", "overall"];
  var chart = window.echarts.init(el);
  chart.setOption({
    tooltip: { trigger: "axis" },
    legend: { data: keys.map(function (k) { return data.names[k]; }) },
    grid: { left: 40, right: 10, bottom: 60 },
    xAxis: { type: "category", data: data.labels, axisLabel: { rotate: 30 } },
    yAxis: { type: "value", min: 0, max: 5 },
    series: keys.map(function (k) { return { name: data.names[k], type: "bar", data: data.series[k] }; })
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
