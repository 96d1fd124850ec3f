/** Daily charts with uPlot, loaded only by the screens that draw them (it is
 * most of the app's weight). Each chart is decoration for sighted users: the
 * screens put the same numbers in a <table>. */
import { h } from "./dom.js";

let uPlotPromise = null;

function loadUPlot() {
  if (!document.querySelector("link[data-uplot]")) {
    document.head.append(h("link", { rel: "stylesheet", href: new URL("../vendor/uplot.css", import.meta.url).href, "data-uplot": "" }));
  }
  uPlotPromise ??= import("../vendor/uplot.js").then((module) => module.default);
  return uPlotPromise;
}

const DAY_LABEL = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", timeZone: "UTC" });

const SCALES = {
  pain: { range: [0, 10], label: "Pain (0–10)", values: (u, ticks) => ticks.map((v) => (Number.isInteger(v) ? String(v) : "")) },
  pct: { range: [0, 100], label: "Adherence", values: (u, ticks) => ticks.map((v) => `${v}%`) },
  score: { range: [0, 100], label: "ODI score", values: (u, ticks) => ticks.map((v) => `${v}%`) },
};

function color(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

function dayToSeconds(iso) {
  return Date.parse(`${iso}T00:00:00Z`) / 1000;
}

/**
 * Draws a chart of daily values into `container`; returns {destroy}.
 * series: [{label, values (numbers or null, one per date), scale: "pain"|"pct"|"score",
 *           kind: "line"|"bars", color: CSS custom property name, dashed?}]
 */
export async function dailyChart(container, dates, series, { height = 220 } = {}) {
  const uPlot = await loadUPlot();
  const scales = [...new Set(series.map((s) => s.scale))];
  const text = color("--text-muted");
  const grid = color("--chart-grid");
  const options = () => ({
    width: Math.max(280, container.clientWidth),
    height,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    cursor: { drag: { x: false, y: false }, points: { size: 8 } },
    legend: { show: true, live: false },
    scales: Object.fromEntries([["x", { time: true }], ...scales.map((name) => [name, { range: SCALES[name].range }])]),
    axes: [
      {
        stroke: text,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid, width: 1 },
        space: 60,
        values: (u, ticks) => ticks.map((ts) => DAY_LABEL.format(new Date(ts * 1000))),
      },
      ...scales.map((name, index) => ({
        scale: name,
        side: index === 0 ? 3 : 1,
        stroke: text,
        label: scales.length > 1 ? SCALES[name].label : undefined,
        labelSize: 20,
        size: 52,
        values: SCALES[name].values,
        grid: { show: index === 0, stroke: grid, width: 1 },
        ticks: { stroke: grid, width: 1 },
      })),
    ],
    series: [
      { label: "Date", value: (u, ts) => (ts == null ? "–" : new Date(ts * 1000).toISOString().slice(0, 10)) },
      ...series.map((s) => {
        const stroke = color(s.color);
        const base = { label: s.label, scale: s.scale, stroke, width: 2, spanGaps: false, value: (u, v) => (v == null ? "–" : s.scale === "pain" ? String(Math.round(v * 10) / 10) : `${Math.round(v)}%`) };
        return s.kind === "bars"
          ? { ...base, width: 0, fill: `${stroke}bb`, paths: uPlot.paths.bars({ size: [0.7, 24], gap: 1 }), points: { show: false } }
          : { ...base, dash: s.dashed ? [5, 4] : undefined, width: s.dashed ? 1.5 : 2.5, points: { show: !s.dashed, size: 5, fill: stroke } };
      }),
    ],
  });
  const data = [dates.map(dayToSeconds), ...series.map((s) => s.values.map((v) => (v === undefined ? null : v)))];
  let plot = new uPlot(options(), data, container);
  plot.root.setAttribute("aria-hidden", "true");

  const resize = new ResizeObserver(() => {
    const width = Math.max(280, container.clientWidth);
    if (Math.abs(width - plot.width) > 2) plot.setSize({ width, height });
  });
  resize.observe(container);
  // colours come from CSS: redraw when the light/dark scheme changes
  const scheme = matchMedia("(prefers-color-scheme: dark)");
  const redraw = () => {
    plot.destroy();
    plot = new uPlot(options(), data, container);
    plot.root.setAttribute("aria-hidden", "true");
  };
  scheme.addEventListener("change", redraw);
  return {
    destroy() {
      resize.disconnect();
      scheme.removeEventListener("change", redraw);
      plot.destroy();
    },
  };
}

/** A <figure> with a caption, a chart area and a <details> holding the data table. */
export function chartFigure(caption, tableNode) {
  const area = h("div", { class: "chart" });
  const figure = h(
    "figure",
    { class: "chart-figure" },
    h("figcaption", {}, caption),
    area,
    h("details", { class: "chart-data" }, h("summary", {}, `Table: ${caption}`), tableNode),
  );
  return { figure, area };
}
