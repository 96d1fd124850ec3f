/** Daily charts with uPlot, loaded only by the screens that draw them (it is
 * most of the app's weight). Each chart is decoration for sighted users: the
 * screens put the same numbers in a <table>. */
import { h, percent } from "./dom.js";
import { N_, language, t } from "./i18n.js";

let uPlotPromise = null;

const PERIODS = [14, 30, 90];

/** The buttons that choose a chart's period (14, 30 or 90 days), `chosen`
 * pressed: a click presses its own and calls `onChoose(days)`. */
export function periodPicker(chosen, onChoose) {
  const picker = h(
    "div",
    { class: "segmented", role: "group", "aria-label": t("Period") },
    PERIODS.map((days) =>
      h(
        "button",
        {
          type: "button",
          "aria-pressed": String(days === chosen),
          dataset: { days: String(days) },
          onclick: () => {
            for (const button of picker.querySelectorAll("button"))
              button.setAttribute("aria-pressed", String(button.dataset.days === String(days)));
            onChoose(days);
          },
        },
        t("{days} days", { days }),
      ),
    ),
  );
  return picker;
}

function loadUPlot() {
  if (!document.querySelector("link[data-uplot]")) {
    document.head.append(
      h("link", { rel: "stylesheet", href: new URL("../../vendor/uplot.css", import.meta.url).href, "data-uplot": "" }),
    );
  }
  uPlotPromise ??= import("../../vendor/uplot.js").then((module) => module.default);
  return uPlotPromise;
}

const SCALES = {
  pain: {
    range: [0, 10],
    label: N_("Pain (0–10)"),
    values: (u, ticks) => ticks.map((v) => (Number.isInteger(v) ? String(v) : "")),
  },
  pct: { range: [0, 100], label: N_("Adherence"), values: (u, ticks) => ticks.map((v) => percent(v / 100)) },
  score: { range: [0, 100], label: N_("ODI score"), values: (u, ticks) => ticks.map((v) => percent(v / 100)) },
  psfs: {
    range: [0, 10],
    label: N_("PSFS mean (0–10)"),
    values: (u, ticks) => ticks.map((v) => (Number.isInteger(v) ? String(v) : "")),
  },
};

function color(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

function dayToSeconds(iso) {
  return Date.parse(`${iso}T00:00:00Z`) / 1000;
}

/** Flare-up markers as a series on the pain scale: a point at the worst
 * severity reported for each day (null on the others). */
function markerValues(dates, markers) {
  const worst = new Map();
  for (const marker of markers) worst.set(marker.date, Math.max(worst.get(marker.date) ?? 0, marker.severity));
  return dates.map((date) => worst.get(date) ?? null);
}

/** A dashed vertical line at each marked day, under the series. */
function markerLines(values, stroke) {
  return (u) => {
    const { ctx } = u;
    ctx.save();
    ctx.strokeStyle = stroke;
    ctx.lineWidth = 1.5 * devicePixelRatio;
    ctx.setLineDash([4 * devicePixelRatio, 4 * devicePixelRatio]);
    values.forEach((value, index) => {
      if (value === null) return;
      const x = Math.round(u.valToPos(u.data[0][index], "x", true));
      ctx.beginPath();
      ctx.moveTo(x, u.bbox.top);
      ctx.lineTo(x, u.bbox.top + u.bbox.height);
      ctx.stroke();
    });
    ctx.restore();
  };
}

/** The marker's words next to the cursor on a marked day (the table has them too). */
function markerTooltip(values, describe) {
  const tip = h("div", { class: "chart-tooltip", hidden: true });
  return {
    init: (u) => u.over.append(tip),
    setCursor: (u) => {
      const index = u.cursor.idx;
      const value = index == null ? null : values[index];
      tip.hidden = value === null;
      if (value === null) return;
      tip.textContent = describe(u.data[0][index], value);
      tip.style.left = `${Math.min(u.valToPos(u.data[0][index], "x"), u.over.clientWidth - 140)}px`;
      tip.style.top = `${Math.max(0, u.valToPos(value, "pain") - 44)}px`;
    },
  };
}

/**
 * Draws a chart of daily values into `container`; returns {destroy}.
 * series: [{label, values (numbers or null, one per date), scale: "pain"|"pct"|"score"|"psfs",
 *           kind: "line"|"bars", color: CSS custom property name, dashed?}]
 * markers: [{date, severity, text?}]: flare-ups, a dashed line and a point on
 * the pain scale at each day (the chart must have that scale), with a tooltip.
 */
export async function dailyChart(container, dates, series, { height = 220, markers = [] } = {}) {
  const uPlot = await loadUPlot();
  const marked = markers.length && series.some((s) => s.scale === "pain") ? markerValues(dates, markers) : null;
  const texts = new Map();
  for (const marker of markers)
    texts.set(marker.date, [
      ...(texts.get(marker.date) || []),
      marker.text || t("Flare-up: {severity}/10", { severity: marker.severity }),
    ]);
  const scales = [...new Set(series.map((s) => s.scale))];
  const text = color("--text-muted");
  const grid = color("--chart-grid");
  const dayLabel = new Intl.DateTimeFormat(language(), { day: "numeric", month: "short", timeZone: "UTC" });
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
        values: (u, ticks) => ticks.map((ts) => dayLabel.format(new Date(ts * 1000))),
      },
      ...scales.map((name, index) => ({
        scale: name,
        side: index === 0 ? 3 : 1,
        stroke: text,
        label: scales.length > 1 ? t(SCALES[name].label) : undefined,
        labelSize: 20,
        size: 52,
        values: SCALES[name].values,
        grid: { show: index === 0, stroke: grid, width: 1 },
        ticks: { stroke: grid, width: 1 },
      })),
    ],
    series: [
      { label: t("Date"), value: (u, ts) => (ts == null ? "–" : new Date(ts * 1000).toISOString().slice(0, 10)) },
      ...series.map((s) => {
        const stroke = color(s.color);
        const base = {
          label: s.label,
          scale: s.scale,
          stroke,
          width: 2,
          spanGaps: false,
          value: (u, v) =>
            v == null ? "–" : s.scale === "pain" ? String(Math.round(v * 10) / 10) : percent(Math.round(v) / 100),
        };
        return s.kind === "bars"
          ? {
              ...base,
              width: 0,
              fill: `${stroke}bb`,
              paths: uPlot.paths.bars({ size: [0.7, 24], gap: 1 }),
              points: { show: false },
            }
          : {
              ...base,
              dash: s.dashed ? [5, 4] : undefined,
              width: s.dashed ? 1.5 : 2.5,
              points: { show: !s.dashed, size: 5, fill: stroke },
            };
      }),
      ...(marked ? [flareSeries()] : []),
    ],
    hooks: marked ? flareHooks() : {},
  });
  const flareSeries = () => {
    const stroke = color("--chart-flare");
    return {
      label: t("Flare-up"),
      scale: "pain",
      stroke,
      width: 0,
      paths: () => null,
      points: { show: true, size: 12, width: 2, stroke, fill: color("--surface") },
      value: (u, v) => (v == null ? "–" : `${v}/10`),
    };
  };
  const flareHooks = () => {
    const tooltip = markerTooltip(marked, (seconds) =>
      texts.get(new Date(seconds * 1000).toISOString().slice(0, 10)).join("; "),
    );
    return {
      init: [tooltip.init],
      setCursor: [tooltip.setCursor],
      drawAxes: [markerLines(marked, color("--chart-flare"))],
    };
  };
  const data = [
    dates.map(dayToSeconds),
    ...series.map((s) => s.values.map((v) => (v === undefined ? null : v))),
    ...(marked ? [marked] : []),
  ];
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
    h("details", { class: "chart-data" }, h("summary", {}, t("Table: {caption}", { caption })), tableNode),
  );
  return { figure, area };
}
