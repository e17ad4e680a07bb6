import type { EscalationReport, GroupStats } from "../core/report.js";
import { html, type SafeHtml } from "./html.js";
import { formatStats, formatTime, queryString, severityBadge } from "./page-format.js";
import { barChart, columnChart } from "./svg-chart.js";

function groupTable(title: string, groups: readonly GroupStats[], key: (k: string) => SafeHtml) {
  return html`<h2>${title}</h2>
<div class="scroll"><table>
<thead><tr><th></th><th class="num">Incidents</th><th class="num">Acknowledged</th><th class="num">Resolved</th><th>MTTA (mean · p50 · p90)</th><th>MTTR (mean · p50 · p90)</th></tr></thead>
<tbody>
${
  groups.length > 0
    ? groups.map(
        (g) =>
          html`<tr><td>${key(g.key)}</td><td class="num">${g.incidents}</td><td class="num">${g.acknowledged}</td><td class="num">${g.resolved}</td><td>${formatStats(g.mtta)}</td><td>${formatStats(g.mttr)}</td></tr>`,
      )
    : html`<tr><td colspan="6" class="muted">No incidents in this range.</td></tr>`
}
</tbody></table></div>`;
}

/** The range form of the report: dates, submitted to the page with GET. */
function rangeForm(since: string, until: string): SafeHtml {
  return html`<form class="filters" method="get" action="/" aria-label="Report range">
<input type="hidden" name="view" value="report">
<label>From<input type="date" name="since" value="${since.slice(0, 10)}"></label>
<label>To<input type="date" name="until" value="${until.slice(0, 10)}"></label>
<button type="submit">Show</button>
</form>`;
}

/**
 * The escalation report: MTTA and MTTR overall, per team and per severity; incidents per
 * day and how far they escalated as server-made SVG; acknowledgements per responder.
 */
export function reportView(report: EscalationReport, problem?: string): SafeHtml {
  const { overall } = report;
  const csv = `/reports/escalations${queryString({ since: report.since, until: report.until, format: "csv" })}`;
  const levelBars = [
    { label: "opened", value: overall.incidents },
    ...report.reachedLevel.map((l) => ({ label: `level ${l.level}`, value: l.incidents })),
  ];
  return html`<h1>Escalation report</h1>
${rangeForm(report.since, report.until)}
${problem ? html`<p class="error" role="alert">${problem}</p>` : null}
<p class="muted">Incidents created from ${formatTime(report.since)} to ${formatTime(report.until)}.
MTTA: time from opening to acknowledgement; MTTR: from opening to resolution; p50 and p90 are nearest-rank.</p>
${report.testIncidents > 0 ? html`<p class="muted" id="test-incidents">${report.testIncidents} test incident${report.testIncidents === 1 ? "" : "s"} (Grafana's Test button) left out of these figures.</p>` : null}
${report.truncated ? html`<p class="error">Too many incidents: only the newest are counted. Choose a shorter range.</p>` : null}
<p class="pager"><a href="${csv}" download>Export report CSV</a></p>
<div class="cards">
<div class="card"><div class="muted">Incidents</div><div class="big" id="total-incidents">${overall.incidents}</div><div class="muted">${overall.acknowledged} acknowledged · ${overall.resolved} resolved</div></div>
<div class="card"><div class="muted">MTTA</div><div class="big">${formatStats(overall.mtta)}</div></div>
<div class="card"><div class="muted">MTTR</div><div class="big">${formatStats(overall.mttr)}</div></div>
</div>
<h2>Incidents per day</h2>
${columnChart({
  title: "Incidents per day (UTC)",
  bars: report.perDay.map((d) => ({ label: d.day.slice(5), value: d.incidents })),
})}
<h2>How far incidents escalated</h2>
${barChart({ title: "Incidents that reached each escalation level", bars: levelBars })}
${groupTable("By team", report.byTeam, (k) => html`<a href="/${queryString({ team: k, since: report.since.slice(0, 10), until: report.until.slice(0, 10) })}">${k}</a>`)}
${groupTable("By severity", report.bySeverity, (k) => severityBadge(k))}
<h2>By highest level reached</h2>
<div class="scroll"><table><thead><tr><th>Highest level</th><th class="num">Incidents</th></tr></thead><tbody>
${report.byHighestLevel.map(
  (l) =>
    html`<tr><td><a href="/${queryString({ level: String(l.level), since: report.since.slice(0, 10), until: report.until.slice(0, 10) })}">${l.level === 0 ? "0 (not escalated)" : l.level}</a></td><td class="num">${l.incidents}</td></tr>`,
)}
</tbody></table></div>
<h2>Who could not be reached</h2>
<p class="muted">People an escalation level named whom none of their contact methods reached (no usable method, or every one failed).</p>
<div class="scroll"><table id="unreachable"><thead><tr><th>When</th><th>Incident</th><th>Team</th><th class="num">Level</th><th>Person</th><th>Why</th></tr></thead><tbody>
${
  report.unreachable.length > 0
    ? report.unreachable.map(
        (u) =>
          html`<tr><td>${formatTime(u.at)}</td><td><a href="/${queryString({ incident: u.incidentId })}">${u.incidentId}</a></td><td>${u.team}</td><td class="num">${u.level}</td><td>${u.userId}</td><td class="wrap">${u.reason}</td></tr>`,
      )
    : html`<tr><td colspan="6" class="muted">Everyone a level named was reached.</td></tr>`
}
</tbody></table></div>
<h2>Acknowledgements per responder</h2>
<div class="scroll"><table><thead><tr><th>Responder</th><th class="num">Acknowledged</th><th>Time to acknowledge (mean · p50 · p90)</th></tr></thead><tbody>
${
  report.acknowledgementsByResponder.length > 0
    ? report.acknowledgementsByResponder.map(
        (r) =>
          html`<tr><td>${r.responder}</td><td class="num">${r.acknowledgements}</td><td>${formatStats(r.mtta)}</td></tr>`,
      )
    : html`<tr><td colspan="3" class="muted">Nobody acknowledged an incident in this range.</td></tr>`
}
</tbody></table></div>`;
}
