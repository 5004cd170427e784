/* The report's charts, drawn as SVG from its embedded data: grouped bars, lines and a funnel.
   Every text goes in through textContent, never as markup. */
const Charts = (function () {
  "use strict";
  const NS = "http://www.w3.org/2000/svg", W = 960;
  const COLORS = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6"];
  const color = i => COLORS[i % COLORS.length];

  function node(parent, tag, attrs, text) {
    const e = document.createElementNS(NS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e);
    return e;
  }
  function fmt(v, percent) {
    if (v === null || v === undefined || Number.isNaN(v)) return "–";
    return percent ? Math.round(v * 100) + "%" : Number(v).toLocaleString(undefined, {maximumFractionDigits: 2});
  }
  // the chart's box: a legend (HTML, so long names wrap) above an SVG of the given height
  function canvas(el, names, height) {
    el.replaceChildren();
    const legend = document.createElement("div");
    legend.className = "legend";
    names.forEach((n, i) => {
      const key = document.createElement("span");
      key.className = "key";
      key.style.background = color(i);
      const label = document.createElement("span");
      label.textContent = n;
      legend.append(key, label);
    });
    el.appendChild(legend);
    return node(el, "svg", {viewBox: `0 0 ${W} ${height}`, role: "img"});
  }
  function step(max) {  // a round step giving about five gridlines
    if (!(max > 0)) return 1;
    const raw = max / 5, mag = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
  }
  function axis(svg, box, values, percent, right) {
    const max = Math.max(0, ...values.filter(v => v !== null && v !== undefined));
    const s = step(max), top = Math.max(s, Math.ceil(max / s) * s);
    const y = v => box.y + box.h - (v / top) * box.h;
    for (let i = 0; i * s <= top + s / 2; i++) {
      const v = i * s;
      if (!right) node(svg, "line", {x1: box.x, x2: box.x + box.w, y1: y(v), y2: y(v), stroke: "#e5e7eb"});
      node(svg, "text", {x: right ? box.x + box.w + 6 : box.x - 6, y: y(v) + 4, "font-size": 11,
                         fill: "#6b7280", "text-anchor": right ? "start" : "end"}, fmt(v, percent));
    }
    return y;
  }
  function title(svg, text, x, y, right) {
    node(svg, "text", {x: x, y: y, "font-size": 12, fill: "#6b7280", "text-anchor": "middle",
                       transform: `rotate(${right ? 90 : -90} ${x} ${y})`}, text);
  }

  // bars: series [{name, values, right}] over categories; a series may use a right-hand axis
  function bars(el, cats, series, opts) {
    opts = opts || {};
    const H = opts.rotate ? 420 : 340, svg = canvas(el, series.map(s => s.name), H);
    const box = {x: 80, y: 12, w: W - 160, h: H - (opts.rotate ? 130 : 40)};
    const left = axis(svg, box, series.filter(s => !s.right).flatMap(s => s.values), opts.percent, false);
    const rightSeries = series.filter(s => s.right);
    const right = rightSeries.length ? axis(svg, box, rightSeries.flatMap(s => s.values), false, true) : left;
    if (opts.left) title(svg, opts.left, 14, box.y + box.h / 2, false);
    if (opts.right) title(svg, opts.right, W - 12, box.y + box.h / 2, true);
    const slot = box.w / Math.max(1, cats.length), bw = slot * 0.8 / Math.max(1, series.length);
    const every = Math.max(1, Math.ceil(cats.length / 60));  // labels that fit
    cats.forEach((c, i) => {
      const x0 = box.x + i * slot + slot * 0.1;
      series.forEach((s, j) => {
        const v = s.values[i];
        if (v === null || v === undefined) return;
        const y = s.right ? right : left, top = y(Math.max(0, v));
        const r = node(svg, "rect", {x: x0 + j * bw, y: top, width: Math.max(1, bw - 1),
                                     height: Math.max(0, y(0) - top), fill: color(j)});
        node(r, "title", {}, `${s.name} · ${c}: ${fmt(v, opts.percent && !s.right)}`);
      });
      if (i % every) return;
      const text = String(c), lx = x0 + slot * 0.4, ly = box.y + box.h + 16;
      const t = node(svg, "text", {x: lx, y: ly, "font-size": 11, "text-anchor": opts.rotate ? "end" : "middle",
                                   transform: opts.rotate ? `rotate(-40 ${lx} ${ly})` : `rotate(0)`},
                     text.length > 20 ? text.slice(0, 19) + "…" : text);
      node(t, "title", {}, text);
    });
  }

  // lines: cumulative series over dates; the first and last date labels stay inside the chart
  function lines(el, days, series, opts) {
    const H = 340, svg = canvas(el, series.map(s => s.name), H);
    const box = {x: 80, y: 12, w: W - 110, h: H - 48};
    const y = axis(svg, box, series.flatMap(s => s.values), false, false);
    if (opts && opts.left) title(svg, opts.left, 14, box.y + box.h / 2, false);
    const n = Math.max(1, days.length - 1), x = i => box.x + (i / n) * box.w;
    series.forEach((s, j) => {
      if (!s.values.length) return;
      const pts = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
      const line = node(svg, "polyline", {points: pts, fill: "none", stroke: color(j), "stroke-width": 2,
                                          "stroke-dasharray": s.dash ? "5 4" : "none"});
      node(line, "title", {}, s.name);
    });
    const ticks = Math.min(6, days.length);
    for (let k = 0; k < ticks; k++) {
      const i = ticks === 1 ? 0 : Math.round(k * (days.length - 1) / (ticks - 1));
      const anchor = k === 0 ? "start" : k === ticks - 1 ? "end" : "middle";
      node(svg, "line", {x1: x(i), x2: x(i), y1: box.y + box.h, y2: box.y + box.h + 4, stroke: "#9ca3af"});
      node(svg, "text", {class: "tick", x: x(i), y: box.y + box.h + 20, "font-size": 11, fill: "#374151",
                         "text-anchor": anchor}, days[i]);
    }
  }

  // funnel: per stage, one centred bar per series, labelled with its value and share of the first stage
  function funnel(el, stages, series) {
    const row = 20 * series.length + 12, H = 12 + stages.length * row;
    const svg = canvas(el, series.map(s => s.name), H);
    const box = {x: 130, w: W - 330};
    const max = Math.max(1, ...series.flatMap(s => s.values.filter(v => v !== null && v !== undefined)));
    stages.forEach((st, i) => {
      const y0 = 6 + i * row;
      node(svg, "text", {x: box.x - 10, y: y0 + row / 2, "font-size": 12, "text-anchor": "end"}, st);
      series.forEach((s, j) => {
        const v = s.values[i] || 0, first = s.values[0] || 0, w = Math.max(1, (v / max) * box.w);
        const share = first ? ` (${Math.round((v / first) * 100)}%)` : "";
        const r = node(svg, "rect", {x: box.x + (box.w - w) / 2, y: y0 + j * 20, width: w, height: 17, fill: color(j)});
        node(r, "title", {}, `${s.name} · ${st}: ${fmt(v)}${share}`);
        node(svg, "text", {x: box.x + box.w + 10, y: y0 + j * 20 + 13, "font-size": 11, fill: "#374151"},
             fmt(v) + share);
      });
    });
  }

  return {bars: bars, lines: lines, funnel: funnel};
})();
