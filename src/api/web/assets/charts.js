// Two small SVG charts for the reports: lines over categories (rates 0..1) and grouped bars
// (counts). Drawn from plain arrays; no library.
(function () {
  "use strict";
  const NS = "http://www.w3.org/2000/svg";
  const W = 640, HGT = 240, L = 44, R = 12, T = 12, B = 36;

  function svg(tag, attrs, text) {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function frame(labels, max, fmt) {
    const root = svg("svg", { viewBox: `0 0 ${W} ${HGT}`, role: "img" });
    const y = (v) => T + (HGT - T - B) * (1 - v / max);
    for (let i = 0; i <= 4; i++) {
      const v = (max * i) / 4;
      root.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#e5e7eb" }));
      root.append(svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", "font-size": 11, fill: "#6b7280" }, fmt(v)));
    }
    const step = (W - L - R) / Math.max(labels.length, 1);
    const every = Math.ceil(labels.length / 12);
    labels.forEach((lab, i) => {
      if (i % every) return;
      root.append(svg("text", { x: L + step * (i + 0.5), y: HGT - B + 16, "text-anchor": "middle",
        "font-size": 11, fill: "#6b7280" }, lab));
    });
    return { root, y, step };
  }

  function legend(series) {
    const d = document.createElement("div");
    d.className = "legend";
    for (const s of series) {
      const span = document.createElement("span");
      const i = document.createElement("i");
      i.style.background = s.color;
      span.append(i, s.name);
      d.append(span);
    }
    return d;
  }

  // series: [{name, color, values: [number|null]}], values 0..1 per label.
  window.lineChart = function (box, labels, series) {
    const { root, y, step } = frame(labels, 1, (v) => Math.round(v * 100) + "%");
    for (const s of series) {
      let d = "";
      s.values.forEach((v, i) => {
        if (v === null || v === undefined) return;
        const x = L + step * (i + 0.5);
        d += (d ? " L" : "M") + x.toFixed(1) + " " + y(v).toFixed(1);
        root.append(svg("circle", { cx: x, cy: y(v), r: 3, fill: s.color },));
      });
      if (d) root.append(svg("path", { d, fill: "none", stroke: s.color, "stroke-width": 2, class: "series" }));
    }
    box.replaceChildren(root, legend(series));
  };

  // series: [{name, color, values: [count]}], one group of bars per label.
  window.barChart = function (box, labels, series) {
    const max = Math.max(1, ...series.flatMap((s) => s.values.map((v) => v || 0)));
    // A top that is a multiple of 4, so that the four grid steps are whole numbers.
    const nice = Math.pow(10, Math.floor(Math.log10(max)));
    const top = Math.max(4, Math.ceil(Math.ceil(max / nice) * nice / 4) * 4);
    const { root, y, step } = frame(labels, top, (v) => String(Math.round(v)));
    const w = (step * 0.8) / series.length;
    series.forEach((s, k) => {
      s.values.forEach((v, i) => {
        const x = L + step * i + step * 0.1 + w * k;
        root.append(svg("rect", { x, y: y(v || 0), width: Math.max(w - 1, 1), height: y(0) - y(v || 0),
          fill: s.color, class: "bar" }, ));
      });
    });
    box.replaceChildren(root, legend(series));
  };
})();
