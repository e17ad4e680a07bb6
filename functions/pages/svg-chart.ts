import { html, type SafeHtml } from "./html.js";

export interface Bar {
  label: string;
  value: number;
}

const fmt = (n: number) => String(Math.round(n * 10) / 10);

/** A round axis maximum at or above `max`: 1, 2, 5, 10, 20, 50… */
export function niceMax(max: number): number {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  return ([1, 2, 5, 10].map((m) => m * power).find((m) => m >= max) ?? 10 * power) as number;
}

/**
 * A vertical bar chart as inline SVG, server-made: no script, no library, scales with its
 * container (viewBox). Every bar has a <title> (hover and screen readers); x labels are
 * thinned to about eight. Colours come from the page's stylesheet (currentColor).
 */
export function columnChart(options: {
  title: string;
  bars: readonly Bar[];
  width?: number;
  height?: number;
}): SafeHtml {
  const { title, bars } = options;
  const width = options.width ?? 720;
  const height = options.height ?? 220;
  const left = 36;
  const bottom = 28;
  const top = 10;
  const plotW = width - left - 8;
  const plotH = height - top - bottom;
  const max = niceMax(Math.max(0, ...bars.map((b) => b.value)));
  const step = plotW / Math.max(1, bars.length);
  const every = Math.max(1, Math.ceil(bars.length / 8));
  const y = (v: number) => top + plotH - (v / max) * plotH;
  return html`<svg class="chart" role="img" aria-label="${title}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">
<title>${title}</title>
<line x1="${left}" y1="${y(0)}" x2="${width - 8}" y2="${y(0)}"/>
<line x1="${left}" y1="${y(max)}" x2="${width - 8}" y2="${y(max)}" stroke-dasharray="3 3"/>
<text x="${left - 4}" y="${y(max) + 4}" text-anchor="end">${fmt(max)}</text>
<text x="${left - 4}" y="${y(0) + 4}" text-anchor="end">0</text>
${bars.map((bar, i) => {
  const x = left + i * step;
  const h = (bar.value / max) * plotH;
  return html`<rect x="${fmt(x + step * 0.1)}" y="${fmt(y(bar.value))}" width="${fmt(Math.max(1, step * 0.8))}" height="${fmt(h)}" fill="currentColor"><title>${bar.label}: ${bar.value}</title></rect>
${i % every === 0 ? html`<text x="${fmt(x + step / 2)}" y="${height - 8}" text-anchor="middle">${bar.label}</text>` : null}`;
})}
</svg>`;
}

/** A horizontal bar chart for a few labelled values (e.g. incidents per escalation level). */
export function barChart(options: {
  title: string;
  bars: readonly Bar[];
  width?: number;
}): SafeHtml {
  const { title, bars } = options;
  const width = options.width ?? 720;
  const row = 26;
  const left = 130;
  const right = 48;
  const height = Math.max(1, bars.length) * row + 8;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const w = (v: number) => (v / max) * (width - left - right);
  return html`<svg class="chart" role="img" aria-label="${title}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">
<title>${title}</title>
${bars.map((bar, i) => {
  const y = 4 + i * row;
  return html`<text x="${left - 8}" y="${y + 16}" text-anchor="end">${bar.label}</text>
<rect x="${left}" y="${y + 3}" width="${fmt(Math.max(bar.value > 0 ? 2 : 0, w(bar.value)))}" height="${row - 8}" fill="currentColor"><title>${bar.label}: ${bar.value}</title></rect>
<text x="${fmt(left + w(bar.value) + 6)}" y="${y + 16}">${bar.value}</text>`;
})}
</svg>`;
}
