// The page script of reports/index.html (inlined by helpers/report/html.ts, after Chart.js): draws
// the charts from the JSON in #report-data. Plain browser JavaScript, no network, no modules.
/* global Chart */
(function () {
  'use strict'
  var data = JSON.parse(document.getElementById('report-data').textContent)
  var INK = '#1e293b'
  var MUTED = '#64748b'
  var GRID = '#e2e8f0'
  var GOOD = '#22a05a'
  var BAD = '#E45756'
  var SKIP = '#b6bfcc'

  Chart.defaults.animation = false
  Chart.defaults.responsive = true
  Chart.defaults.maintainAspectRatio = false
  Chart.defaults.color = MUTED
  Chart.defaults.borderColor = GRID
  Chart.defaults.font.family = 'system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Liberation Sans",Arial,sans-serif'
  Chart.defaults.font.size = 12
  Chart.defaults.plugins.legend.labels.boxWidth = 12
  Chart.defaults.plugins.legend.labels.boxHeight = 12

  function color(node) { return data.colors[node] || '#94a3b8' }

  // Numbers on the bars: inside a horizontal stacked segment when it fits, above a vertical bar.
  var valueLabels = {
    id: 'valueLabels',
    afterDatasetsDraw: function (chart, _args, opts) {
      var ctx = chart.ctx
      var horizontal = chart.options.indexAxis === 'y'
      ctx.save()
      ctx.font = '600 11px ' + Chart.defaults.font.family
      ctx.textAlign = 'center'
      ctx.textBaseline = 'middle'
      chart.data.datasets.forEach(function (ds, di) {
        var meta = chart.getDatasetMeta(di)
        if (meta.hidden) return
        meta.data.forEach(function (bar, i) {
          var value = ds.data[i]
          if (value === null || value === undefined || value === 0) return
          var text = opts.format ? opts.format(value) : String(value)
          var w = ctx.measureText(text).width
          if (horizontal) {
            if (Math.abs(bar.x - bar.base) < w + 6) return
            ctx.fillStyle = '#fff'
            ctx.fillText(text, (bar.x + bar.base) / 2, bar.y)
          } else {
            ctx.fillStyle = INK
            ctx.fillText(text, bar.x, bar.y - 9)
          }
        })
      })
      ctx.restore()
    },
  }

  // Vertical lines at x values (the stop/kill instant of a timeline), each with a label.
  var markers = {
    id: 'markers',
    afterDraw: function (chart, _args, opts) {
      var area = chart.chartArea
      var ctx = chart.ctx
      ;(opts.lines || []).forEach(function (m) {
        var x = chart.scales.x.getPixelForValue(m.x)
        if (x < area.left || x > area.right) return
        ctx.save()
        ctx.strokeStyle = m.color || BAD
        ctx.lineWidth = 2
        ctx.setLineDash([6, 4])
        ctx.beginPath()
        ctx.moveTo(x, area.top)
        ctx.lineTo(x, area.bottom)
        ctx.stroke()
        ctx.setLineDash([])
        ctx.font = '600 11px ' + Chart.defaults.font.family
        var w = ctx.measureText(m.label).width + 10
        ctx.fillStyle = m.color || BAD
        // the label sits in the padding above the plot area, clear of every point
        ctx.fillRect(x - w / 2, area.top - 22, w, 18)
        ctx.fillStyle = '#fff'
        ctx.textBaseline = 'middle'
        ctx.textAlign = 'center'
        ctx.fillText(m.label, x, area.top - 13)
        ctx.restore()
      })
    },
  }

  // Light bands behind alternate groups of categories (the series of one scheduler).
  var bands = {
    id: 'bands',
    beforeDraw: function (chart, _args, opts) {
      var groups = opts.groups || []
      var y = chart.scales.y
      var area = chart.chartArea
      var ctx = chart.ctx
      var half = groups.length > 1 ? Math.abs(y.getPixelForValue(1) - y.getPixelForValue(0)) / 2 : 0
      var band = -1
      ctx.save()
      ctx.fillStyle = '#f1f5f9'
      groups.forEach(function (g, i) {
        if (i === 0 || g !== groups[i - 1]) band++
        if (band % 2 === 1) ctx.fillRect(0, y.getPixelForValue(i) - half, area.right, half * 2)
      })
      ctx.restore()
    },
  }

  var charts = []
  function draw(id, config) {
    var canvas = document.getElementById(id)
    if (!canvas) return
    charts.push(new Chart(canvas, config))
  }

  // Pass/fail per suite file.
  if (data.suites.length) {
    draw('chart-suites', {
      type: 'bar',
      data: {
        labels: data.suites.map(function (s) { return s.label }),
        datasets: [
          { label: 'passed', data: data.suites.map(function (s) { return s.passed }), backgroundColor: GOOD },
          { label: 'failed', data: data.suites.map(function (s) { return s.failed }), backgroundColor: BAD },
          { label: 'skipped', data: data.suites.map(function (s) { return s.skipped }), backgroundColor: SKIP },
        ],
      },
      options: {
        indexAxis: 'y',
        scales: {
          x: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'tests' } },
          y: { stacked: true, grid: { display: false }, ticks: { color: INK } },
        },
        plugins: { legend: { position: 'top', align: 'end' }, valueLabels: {} },
        datasets: { bar: { barPercentage: 0.8, categoryPercentage: 0.85 } },
      },
      plugins: [valueLabels],
    })
  }

  // Failover gap per topology, docker stop and SIGKILL side by side.
  if (data.failover.groups.length) {
    draw('chart-failover', {
      type: 'bar',
      data: {
        labels: data.failover.groups,
        datasets: [
          { label: 'docker stop', data: data.failover.stop.map(function (v) { return v === null ? null : v / 1000 }), backgroundColor: '#5B8FF9', borderRadius: 4 },
          { label: 'SIGKILL', data: data.failover.kill.map(function (v) { return v === null ? null : v / 1000 }), backgroundColor: '#7B4FB0', borderRadius: 4 },
        ],
      },
      options: {
        layout: { padding: { top: 18 } },
        scales: {
          y: { beginAtZero: true, title: { display: true, text: 'gap (s)' }, grace: '8%' },
          x: { grid: { display: false }, ticks: { color: INK } },
        },
        plugins: {
          legend: { position: 'top', align: 'end' },
          tooltip: { callbacks: { label: function (c) { return c.dataset.label + ': ' + c.parsed.y.toFixed(2) + ' s' } } },
          valueLabels: { format: function (v) { return v.toFixed(2) + ' s' } },
        },
      },
      plugins: [valueLabels],
    })
  }

  // Distribution: one horizontal stacked bar per series, a segment per node.
  var series = data.distribution.series
  if (series.length) {
    draw('chart-distribution', {
      type: 'bar',
      data: {
        labels: series.map(function (s) { return s.scheduler + '  ·  ' + s.source }),
        datasets: data.distribution.nodes.map(function (node) {
          return {
            label: node,
            data: series.map(function (s) { return s.counts[node] || 0 }),
            backgroundColor: color(node),
          }
        }),
      },
      options: {
        indexAxis: 'y',
        scales: {
          x: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'requests' } },
          y: { stacked: true, grid: { display: false }, ticks: { color: INK, font: { family: 'ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace', size: 11 } } },
        },
        plugins: {
          legend: { position: 'top', align: 'end' },
          tooltip: {
            callbacks: {
              title: function (items) { return series[items[0].dataIndex].test || '' },
              label: function (c) { return c.dataset.label + ': ' + c.parsed.x },
            },
          },
          valueLabels: {},
          bands: { groups: series.map(function (s) { return s.scheduler }) },
        },
        datasets: { bar: { barPercentage: 0.82, categoryPercentage: 0.9 } },
      },
      plugins: [bands, valueLabels],
    })
  }

  // Failover timelines: each request a point (time, latency), coloured by the node that served it;
  // failures (no answer or an error status) as red crosses; the stop/kill instant as a dashed line.
  data.timelines.forEach(function (t, i) {
    var ok = function (e) { return e.node !== null && e.status !== null && e.status < 400 }
    var point = function (e) { return { x: e.t / 1000, y: Math.max(e.latencyMs, 1), e: e } }
    var maxLatency = t.events.reduce(function (m, e) { return Math.max(m, e.latencyMs) }, 1)
    var datasets = t.nodes.map(function (node) {
      return {
        label: node,
        data: t.events.filter(function (e) { return ok(e) && e.node === node }).map(point),
        backgroundColor: color(node),
        borderColor: color(node),
        pointRadius: 3.5,
      }
    })
    datasets.push({
      label: 'failed',
      data: t.events.filter(function (e) { return !ok(e) }).map(point),
      backgroundColor: BAD,
      borderColor: BAD,
      pointStyle: 'crossRot',
      pointRadius: 7,
      borderWidth: 2.5,
    })
    draw('chart-timeline-' + i, {
      type: 'scatter',
      data: { datasets: datasets },
      options: {
        scales: {
          x: { type: 'linear', title: { display: true, text: 'time since the load started (s)' } },
          // a decade of headroom above the slowest request, so the marker's label never covers a point
          y: {
            type: 'logarithmic',
            max: Math.pow(10, Math.ceil(Math.log10(maxLatency * 1.5))),
            title: { display: true, text: 'latency (ms, log)' },
            ticks: {
              // 1, 3, 10, 30, 100…: a readable log axis
              callback: function (v) {
                var lead = v / Math.pow(10, Math.floor(Math.log10(v) + 1e-9))
                return Math.abs(lead - 1) < 1e-6 || Math.abs(lead - 3) < 1e-6 ? v.toLocaleString('en-US') : null
              },
            },
          },
        },
        layout: { padding: { top: 26 } },
        plugins: {
          legend: { position: 'top', align: 'end' },
          tooltip: {
            callbacks: {
              label: function (c) {
                var e = c.raw.e
                return 'user ' + e.user + ' · ' + (e.node || 'no node') + ' · ' + (e.status === null ? 'no answer' : 'HTTP ' + e.status) + ' · ' + e.latencyMs + ' ms'
              },
            },
          },
          markers: { lines: [{ x: t.disruptionAt / 1000, label: t.how === 'kill' ? 'SIGKILL' : 'docker stop' }] },
        },
      },
      plugins: [markers],
    })
  })

  window.__reportCharts = charts.length
  document.documentElement.setAttribute('data-charts-ready', String(charts.length))
})()
