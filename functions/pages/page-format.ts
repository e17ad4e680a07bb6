import type { DurationStats } from "../core/report.js";
import { html, type SafeHtml } from "./html.js";

/** An ISO time as managers read it: `2026-11-30 09:00:12 UTC` (the page is in UTC throughout). */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  return `${t.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** Seconds as `42s`, `4m 12s`, `1h 05m`, `2d 03h`. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const pad = (n: number) => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d ${pad(Math.floor((s % 86_400) / 3600))}h`;
}

/** `mean · p50 · p90` of a duration, or a dash when nothing was measured. */
export function formatStats(stats: DurationStats): SafeHtml {
  if (stats.count === 0) return html`<span class="muted">–</span>`;
  return html`${formatDuration(stats.mean)} <span class="muted">· p50 ${formatDuration(stats.p50)} · p90 ${formatDuration(stats.p90)}</span>`;
}

export const severityBadge = (severity: string) =>
  html`<span class="badge sev-${severity.replace(/[^a-z]/g, "")}">${severity}</span>`;

export const statusBadge = (status: string) =>
  html`<span class="badge st-${status.replace(/[^a-z]/g, "")}">${status}</span>`;

/** A query string from the non-empty entries of `params`. */
export function queryString(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) search.set(name, value);
  const text = search.toString();
  return text ? `?${text}` : "";
}
