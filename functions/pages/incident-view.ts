import { valuesText } from "../core/alert.js";
import { escalationByLevel, type LevelHistory } from "../core/escalation-history.js";
import type { IncidentWithTimeline, TimelineEvent } from "../core/incident.js";
import type { RunbookDetails } from "../core/notification.js";
import { highestLevel, timeToAcknowledge, timeToResolve } from "../core/report.js";
import { html, type SafeHtml, safeHref } from "./html.js";
import { formatDuration, formatTime, severityBadge, statusBadge } from "./page-format.js";

const OUTCOME: Record<string, string> = {
  delivered: "delivered",
  not_delivered: "not delivered",
  failed: "failed",
};

const EVENT_LABEL: Record<TimelineEvent["type"], string> = {
  triggered: "Triggered",
  notified: "Notified",
  notification_failed: "Notification failed",
  escalated: "Escalated",
  exhausted: "Escalation exhausted",
  acknowledged: "Acknowledged",
  snoozed: "Snoozed",
  resolved: "Resolved",
  reopened: "Reopened",
  unreachable: "Unreachable",
};

/** A link for a URL from the alert, or its text when it is not http(s). */
function link(url: string | null | undefined, text: string): SafeHtml | null {
  if (!url) return null;
  const href = safeHref(url);
  return href ? html`<a href="${href}" rel="noreferrer noopener">${text}</a>` : html`${url}`;
}

const pairs = (title: string, values: Readonly<Record<string, string>>) => {
  const entries = Object.entries(values).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return null;
  return html`<h2>${title}</h2><div class="scroll"><table class="pairs"><tbody>
${entries.map(([name, value]) => html`<tr><th>${name}</th><td class="wrap">${value}</td></tr>`)}
</tbody></table></div>`;
};

function levelSection(level: LevelHistory): SafeHtml {
  const heading = level.level === 0 ? "When it opened" : `Level ${level.level}`;
  const rows = level.deliveries.length + level.unreachable.length;
  return html`<section class="level" data-level="${level.level}">
<h3>${heading} <span class="muted">· ${formatTime(level.reachedAt)}</span></h3>
${level.escalation ? html`<p>Escalated ${level.escalation}</p>` : null}
${
  rows > 0
    ? html`<div class="scroll"><table><thead><tr><th>When</th><th>Channel</th><th>To</th><th>Method</th><th>Outcome</th><th>Provider id</th><th>Detail</th></tr></thead><tbody>
${level.deliveries.map(
  (
    d,
  ) => html`<tr><td>${formatTime(d.at)}</td><td>${d.channel ?? "–"}</td><td>${d.target ?? "–"}</td><td>${d.method ?? "–"}</td>
<td class="${d.state}">${OUTCOME[d.state]}</td><td>${d.providerId ?? "–"}</td><td class="wrap">${d.detail}</td></tr>`,
)}
${level.unreachable.map(
  (u) =>
    html`<tr class="unreachable"><td>${formatTime(u.at)}</td><td>–</td><td>${u.target ?? u.person}</td><td>–</td>
<td class="failed">unreachable</td><td>–</td><td class="wrap">${u.reason}</td></tr>`,
)}
</tbody></table></div>`
    : html`<p class="muted">No notifications recorded at this level.</p>`
}
</section>`;
}

/** Where the incident's current acknowledgement or resolve came from (`via slack`). */
function viaOf(incident: IncidentWithTimeline, type: "acknowledged" | "resolved"): string {
  const via = incident.timeline.findLast((e) => e.type === type)?.via;
  return via ? ` via ${via}` : "";
}

function timelineItem(event: TimelineEvent): SafeHtml {
  const parts = [
    event.level !== undefined ? `level ${event.level}` : null,
    event.channel ? `via ${event.channel}` : null,
    event.target ? `to ${event.target}` : null,
    event.actor ? `by ${event.actor}` : null,
  ].filter((p): p is string => p !== null);
  return html`<li data-type="${event.type}"><time datetime="${event.at}">${formatTime(event.at)}</time>
<strong>${EVENT_LABEL[event.type] ?? event.type}</strong> ${parts.join(" · ")}
${event.detail ? html`<div class="muted">${event.detail}</div>` : null}</li>`;
}

/** The runbook's summary and first steps, filled in with the incident's labels. */
const runbookSection = (runbook: RunbookDetails) =>
  html`<section class="runbook"><h2>${link(runbook.url, runbook.name)}</h2><p>${runbook.summary}</p>
<ol>${runbook.diagnosis.map((step) => html`<li class="wrap">${step}</li>`)}</ol></section>`;

/**
 * One incident: what it is, its runbook when one is known, its escalation level by level,
 * and its whole timeline.
 */
export function incidentView(
  incident: IncidentWithTimeline,
  runbook: RunbookDetails | null = null,
): SafeHtml {
  const ack = timeToAcknowledge(incident);
  const res = timeToResolve(incident);
  const timeline = [...incident.timeline].sort((a, b) => a.at.localeCompare(b.at));
  const csv = `/incidents/${encodeURIComponent(incident.id)}?format=csv`;
  return html`<p><a href="/">← Incidents</a></p>
<h1>${incident.title}</h1>
<p>${severityBadge(incident.severity)} ${statusBadge(incident.status)} <span class="muted">team</span> ${incident.team}</p>
<dl class="fields">
<dt>Created</dt><dd>${formatTime(incident.createdAt)}</dd>
<dt>Highest level</dt><dd>${highestLevel(incident)}</dd>
<dt>Acknowledged</dt><dd>${incident.acknowledgedAt ? html`by ${incident.acknowledgedBy}${viaOf(incident, "acknowledged")} at ${formatTime(incident.acknowledgedAt)} (after ${formatDuration(ack)})` : html`<span class="muted">no</span>`}</dd>
<dt>Resolved</dt><dd>${incident.resolvedAt ? html`by ${incident.resolvedBy}${viaOf(incident, "resolved")} at ${formatTime(incident.resolvedAt)} (after ${formatDuration(res)})` : html`<span class="muted">no</span>`}</dd>
${incident.snoozedUntil ? html`<dt>Snoozed until</dt><dd>${formatTime(incident.snoozedUntil)}</dd>` : null}
<dt>Occurrences</dt><dd>${incident.occurrences} (last seen ${formatTime(incident.lastSeenAt)})</dd>
<dt>Escalation policy</dt><dd>${incident.escalationPolicy ?? html`<span class="muted">none</span>`}</dd>
<dt>Source</dt><dd>${incident.source} · fingerprint ${incident.fingerprint}</dd>
${incident.runbook ? html`<dt>Runbook</dt><dd>${link(incident.runbook.url, incident.runbook.name)}</dd>` : null}
${incident.generatorUrl ? html`<dt>Source link</dt><dd>${link(incident.generatorUrl, "alert source")}</dd>` : null}
${incident.dashboardUrl ? html`<dt>Dashboard</dt><dd>${link(incident.dashboardUrl, "dashboard")}</dd>` : null}
${valuesText(incident) ? html`<dt>Values</dt><dd><code>${valuesText(incident)}</code></dd>` : null}
${incident.values && incident.valueText ? html`<dt>Value string</dt><dd><code>${incident.valueText}</code></dd>` : null}
${incident.imageUrl ? html`<dt>Panel image</dt><dd>${link(incident.imageUrl, "panel image")}</dd>` : null}
${incident.ruleId ? html`<dt>Alert rule</dt><dd>${incident.ruleId}</dd>` : null}
</dl>
<p class="pager"><a href="${csv}" download>Export timeline CSV</a></p>
${runbook ? runbookSection(runbook) : null}
<h2>Escalation, level by level</h2>
${(() => {
  const levels = escalationByLevel(timeline);
  return levels.length > 0
    ? levels.map(levelSection)
    : html`<p class="muted">No notifications recorded.</p>`;
})()}
<h2>Timeline</h2>
<ol class="timeline" id="timeline">${timeline.map(timelineItem)}</ol>
${pairs("Labels", incident.labels)}
${pairs("Annotations", incident.annotations)}`;
}
