/* The console's only script of its own: draws the overview's charts with the vendored ECharts from the JSON the
   server computes. No inline script anywhere (the Content-Security-Policy forbids it). */
(function () {
  "use strict";
  // The charts draw text on a canvas: the same Chinese faces as the page's CSS.
  var FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif';
  var STATE_NAMES = {running: "进行中", paused: "暂停", overdue: "已超期", met_on_time: "按期办结", met_late: "逾期办结"};

  function draw() {
    var states = document.getElementById("chart-states");
    var rates = document.getElementById("chart-rates");
    if (!states || !window.echarts || states.dataset.drawn) return;
    states.dataset.drawn = "1";
    fetch(states.dataset.source, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        document.getElementById("overdue-count").textContent = String(data.overdue);
        var a = window.echarts.init(states);
        a.setOption({textStyle: {fontFamily: FONT}});
        a.setOption({
          tooltip: {trigger: "axis"}, legend: {}, xAxis: {type: "category", data: data.modules},
          yAxis: {type: "value", minInterval: 1},
          series: Object.keys(STATE_NAMES).map(function (s) {
            return {id: s, name: STATE_NAMES[s], type: "bar", stack: "all", data: data.byState[s]};
          })
        });
        var b = window.echarts.init(rates);
        b.setOption({textStyle: {fontFamily: FONT}});
        b.setOption({
          tooltip: {}, xAxis: {type: "category", data: data.rates.map(function (r) { return r.label; })},
          yAxis: {type: "value", max: 100, axisLabel: {formatter: "{value}%"}},
          series: [{id: "rate", name: "按期率", type: "bar", data: data.rates.map(function (r) {
            return r.rate === null ? null : Math.round(r.rate * 1000) / 10;
          })}]
        });
        var c = window.echarts.init(document.getElementById("chart-months"));
        c.setOption({textStyle: {fontFamily: FONT}});
        c.setOption({
          tooltip: {trigger: "axis"}, legend: {}, xAxis: {type: "category", data: data.months},
          yAxis: {type: "value", minInterval: 1},
          series: Object.keys(data.startedByMonth).map(function (m) {
            return {id: m, name: m, type: "line", data: data.startedByMonth[m]};
          })
        });
        var charts = [a, b, c];
        var below = document.getElementById("chart-offices");
        if (below) {
          var d = window.echarts.init(below);
          d.setOption({textStyle: {fontFamily: FONT}});
          d.setOption({
            tooltip: {trigger: "axis"}, legend: {}, xAxis: {type: "category", data: data.below.offices},
            yAxis: {type: "value", minInterval: 1},
            series: Object.keys(STATE_NAMES).map(function (s) {
              return {id: s, name: STATE_NAMES[s], type: "bar", stack: "all", data: data.below.byState[s]};
            })
          });
          charts.push(d);
        }
        window.addEventListener("resize", function () { charts.forEach(function (x) { x.resize(); }); });
      });
  }

  // Items by module and category: one horizontal bar per category, a series (colour) per module, the count by
  // state in the tooltip.
  function drawCategories() {
    var el = document.getElementById("chart-categories");
    if (!el || !window.echarts || el.dataset.drawn) return;
    el.dataset.drawn = "1";
    fetch(el.dataset.source, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        el.style.height = Math.max(240, 30 * data.labels.length + 90) + "px";
        var chart = window.echarts.init(el);
        chart.setOption({textStyle: {fontFamily: FONT}});
        chart.setOption({
          // The tooltip is HTML: names an admin typed (categories, domains) are escaped.
          tooltip: {trigger: "item", formatter: function (p) {
            var c = data.categories[p.dataIndex], esc = window.echarts.format.encodeHTML;
            return esc(c.label) + "：" + c.count + " 件<br>" + Object.keys(c.byState).map(function (s) {
              return esc(s) + " " + c.byState[s];
            }).join("<br>");
          }},
          legend: {}, grid: {left: 8, right: 24, containLabel: true},
          xAxis: {type: "value", minInterval: 1},
          yAxis: {type: "category", inverse: true, data: data.labels,
                  axisLabel: {width: 180, overflow: "truncate"}},
          series: data.modules.map(function (m) {
            return {id: m, name: m, type: "bar", stack: "all", data: data.series[m]};
          })
        });
        window.addEventListener("resize", function () { chart.resize(); });
      });
  }

  function drawAll() { draw(); drawCategories(); }

  document.addEventListener("DOMContentLoaded", drawAll);
  document.addEventListener("htmx:afterSettle", drawAll);
})();
