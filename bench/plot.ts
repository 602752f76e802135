/**
 * The benchmark's picture, an SVG drawn here without a plotting library: no-op cost (wall time and
 * SSH connections) against the number of VMs, and time-to-usable against volume size. Pure.
 */
import { groupSamples, metricValues, type BenchResults, type Role } from "./samples";
import { median } from "./stats";

export interface Point {
  x: number;
  y: number;
}

export interface Series {
  label: string;
  points: Point[];
  color: string;
  /** Drawn dashed: a baseline. */
  dashed?: boolean;
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
}

const OP_COLORS: Record<string, string> = { preview: "#1f77b4", refresh: "#ff7f0e", up: "#2ca02c" };
const PANEL_WIDTH = 400;
const PANEL_HEIGHT = 360;
const MARGIN = { left: 56, right: 16, top: 36, bottom: 100 };

/** The three panels of the benchmark's picture, from its samples (medians of each case). */
export function benchPanels(results: BenchResults): Panel[] {
  const groups = groupSamples(results.samples);
  const noopSeries = (metric: string): Series[] =>
    ["preview", "refresh", "up"].flatMap((op) =>
      (["package", "baseline"] as Role[]).flatMap((role) => {
        const points = groups
          .filter((g) => g.phase === "noop" && g.role === role && g.params.op === op && typeof g.params.vms === "number")
          .flatMap((g) => pointOf(g.params.vms as number, median(metricValues(g, metric))));
        const label = role === "package" ? `pulumi ${op}` : `${op}, one connection per command`;
        return points.length ? [{ label, points: byX(points), color: OP_COLORS[op]!, dashed: role === "baseline" }] : [];
      }),
    );
  const volumeSeries: Series[] = (["package", "baseline"] as Role[]).flatMap((role) => {
    const points = groups
      .filter((g) => g.phase === "volume" && g.role === role && typeof g.params.sizeMiB === "number")
      .flatMap((g) => pointOf(g.params.sizeMiB as number, median(metricValues(g, "wallSeconds"))));
    return points.length ? [{ label: role === "package" ? "skip-sync (zeroed volumes)" : "full sync", points: byX(points), color: role === "package" ? "#1f77b4" : "#d62728", dashed: role === "baseline" }] : [];
  });
  return [
    { title: "No-op wall time", xLabel: "VMs", yLabel: "seconds", series: noopSeries("wallSeconds") },
    { title: "SSH connections opened (both hosts)", xLabel: "VMs", yLabel: "connections", series: noopSeries("connections") },
    { title: "New volume until UpToDate on both", xLabel: "volume size (MiB)", yLabel: "seconds", series: volumeSeries },
  ];
}

/** The panels side by side in one SVG document. */
export function renderSvg(panels: readonly Panel[], caption: string): string {
  const width = PANEL_WIDTH * panels.length;
  const height = PANEL_HEIGHT + 24;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...panels.map((p, i) => renderPanel(p, i * PANEL_WIDTH)),
    `<text x="8" y="${height - 8}" fill="#555555">${escapeXml(caption)}</text>`,
    "</svg>",
  ];
  return `${parts.join("\n")}\n`;
}

function renderPanel(panel: Panel, offsetX: number): string {
  const plotW = PANEL_WIDTH - MARGIN.left - MARGIN.right;
  const plotH = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const x0 = offsetX + MARGIN.left;
  const y0 = MARGIN.top + plotH;
  const out = [`<text x="${offsetX + PANEL_WIDTH / 2}" y="20" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(panel.title)}</text>`];
  const points = panel.series.flatMap((s) => s.points);
  out.push(`<rect x="${x0}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999999"/>`);
  if (points.length === 0) {
    out.push(`<text x="${x0 + plotW / 2}" y="${MARGIN.top + plotH / 2}" text-anchor="middle" fill="#888888">not measured</text>`);
    return out.join("\n");
  }
  const xs = [...new Set(points.map((p) => p.x))].sort((a, b) => a - b);
  const xMin = xs[0]!;
  const xMax = xs[xs.length - 1]!;
  const yTicks = niceTicks(0, Math.max(...points.map((p) => p.y)));
  const yMax = yTicks[yTicks.length - 1]!;
  const sx = (x: number) => (xMax === xMin ? x0 + plotW / 2 : x0 + ((x - xMin) / (xMax - xMin)) * plotW);
  const sy = (y: number) => y0 - (yMax === 0 ? 0 : (y / yMax) * plotH);
  for (const t of yTicks) {
    out.push(`<line x1="${x0}" y1="${fmt(sy(t))}" x2="${x0 + plotW}" y2="${fmt(sy(t))}" stroke="#eeeeee"/>`);
    out.push(`<text x="${x0 - 6}" y="${fmt(sy(t) + 4)}" text-anchor="end">${escapeXml(tickLabel(t))}</text>`);
  }
  for (const x of xs) out.push(`<text x="${fmt(sx(x))}" y="${y0 + 16}" text-anchor="middle">${escapeXml(tickLabel(x))}</text>`);
  out.push(`<text x="${x0 + plotW / 2}" y="${y0 + 32}" text-anchor="middle">${escapeXml(panel.xLabel)}</text>`);
  out.push(`<text x="${offsetX + 14}" y="${MARGIN.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 ${offsetX + 14} ${MARGIN.top + plotH / 2})">${escapeXml(panel.yLabel)}</text>`);
  for (const s of panel.series) {
    const path = s.points.map((p) => `${fmt(sx(p.x))},${fmt(sy(p.y))}`).join(" ");
    out.push(`<polyline points="${path}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ""}/>`);
    for (const p of s.points) out.push(`<circle cx="${fmt(sx(p.x))}" cy="${fmt(sy(p.y))}" r="3" fill="${s.color}"/>`);
  }
  panel.series.forEach((s, i) => {
    // Two legend entries per line under the plot.
    const lx = x0 + (i % 2) * (plotW / 2);
    const lyRow = y0 + 46 + Math.floor(i / 2) * 13;
    out.push(`<line x1="${fmt(lx)}" y1="${lyRow - 4}" x2="${fmt(lx + 18)}" y2="${lyRow - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="4 3"' : ""}/>`);
    out.push(`<text x="${fmt(lx + 22)}" y="${lyRow}" font-size="9">${escapeXml(s.label)}</text>`);
  });
  return out.join("\n");
}

/** Round tick values from `lo` to at least `hi`: steps of 1, 2 or 5 times a power of ten, about five of them. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo, lo + 1];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.floor(lo / step) * step; t < hi + step; t += step) {
    ticks.push(Number(t.toPrecision(12)));
    if (t >= hi) break;
  }
  return ticks;
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function pointOf(x: number, y: number | undefined): Point[] {
  return y === undefined ? [] : [{ x, y }];
}

function byX(points: Point[]): Point[] {
  return [...points].sort((a, b) => a.x - b.x);
}

function tickLabel(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

function fmt(n: number): string {
  return Number(n.toFixed(1)).toString();
}
