import { SEVERITIES } from "../core/alert.js";
import { INCIDENT_STATUSES, type Incident } from "../core/incident.js";
import { highestLevel, timeToAcknowledge, timeToResolve } from "../core/report.js";
import { html, type SafeHtml } from "./html.js";
import {
  formatDuration,
  formatTime,
  queryString,
  severityBadge,
  statusBadge,
} from "./page-format.js";

/** The list's filters as the page's form sends them (dates as YYYY-MM-DD). */
export const FILTER_NAMES = [
  "since",
  "until",
  "team",
  "severity",
  "status",
  "level",
  "minLevel",
] as const;
export type PageFilters = Partial<Record<(typeof FILTER_NAMES)[number], string>>;

/** The filters present in a request; blanks (an untouched form field) are absent. */
export function pageFilters(params: Record<string, string | undefined>): PageFilters {
  const filters: PageFilters = {};
  for (const name of FILTER_NAMES) {
    const value = params[name]?.trim();
    if (value) filters[name] = value;
  }
  return filters;
}

/** The API's parameters for the page's filters: a bare `until` date means the end of that day. */
export function apiParams(filters: PageFilters): Record<string, string | undefined> {
  const until =
    filters.until && /^\d{4}-\d{2}-\d{2}$/.test(filters.until)
      ? `${filters.until}T23:59:59.999Z`
      : filters.until;
  return { ...filters, until };
}

const select = (
  name: string,
  label: string,
  value: string | undefined,
  options: ReadonlyArray<readonly [string, string]>,
) => html`<label>${label}<select name="${name}">
<option value="">any</option>
${options.map(([v, text]) => html`<option value="${v}"${v === value ? html` selected` : null}>${text}</option>`)}
</select></label>`;

const LEVELS = [0, 1, 2, 3, 4].map(
  (l) => [String(l), l === 0 ? "0 (not escalated)" : String(l)] as const,
);

/** The filter form; it submits to the page itself with GET, so a filtered view is a link. */
export function filterForm(filters: PageFilters): SafeHtml {
  return html`<form class="filters" method="get" action="/" aria-label="Filters">
<label>From<input type="date" name="since" value="${filters.since?.slice(0, 10)}"></label>
<label>To<input type="date" name="until" value="${filters.until?.slice(0, 10)}"></label>
<label>Team<input type="text" name="team" value="${filters.team}" size="12"></label>
${select(
  "severity",
  "Severity",
  filters.severity,
  SEVERITIES.map((s) => [s, s] as const),
)}
${select(
  "status",
  "Status",
  filters.status,
  INCIDENT_STATUSES.map((s) => [s, s] as const),
)}
${select("level", "Highest level", filters.level, LEVELS)}
${select("minLevel", "At least level", filters.minLevel, LEVELS.slice(1))}
<button type="submit">Filter</button>
<a href="/">Clear</a>
</form>`;
}

export const incidentHref = (id: string) => `/?incident=${encodeURIComponent(id)}`;

function row(incident: Incident): SafeHtml {
  return html`<tr>
<td><time datetime="${incident.createdAt}">${formatTime(incident.createdAt)}</time></td>
<td class="wrap"><a href="${incidentHref(incident.id)}">${incident.title}</a>${incident.test ? html` <span class="badge test" title="Grafana's Test button: nobody was paged; left out of the report">test</span>` : null}</td>
<td>${incident.team}</td>
<td>${severityBadge(incident.severity)}</td>
<td>${statusBadge(incident.status)}</td>
<td class="num">${highestLevel(incident)}</td>
<td>${incident.acknowledgedBy ?? html`<span class="muted">–</span>`}</td>
<td class="num">${formatDuration(timeToAcknowledge(incident))}</td>
<td class="num hide-narrow">${formatDuration(timeToResolve(incident))}</td>
</tr>`;
}

/** The incident list: filters, one page of incidents, the next page, CSV export. */
export function listView(options: {
  filters: PageFilters;
  incidents: readonly Incident[];
  nextCursor: string | null;
  cursor?: string | undefined;
  problem?: string | undefined;
}): SafeHtml {
  const { filters, incidents, nextCursor } = options;
  const csv = `/incidents${queryString({ ...apiParams(filters), format: "csv" })}`;
  return html`<h1>Incidents</h1>
${filterForm(filters)}
${options.problem ? html`<p class="error" role="alert">${options.problem}</p>` : null}
<p class="pager"><a href="${csv}" download>Export CSV</a> <a href="/?view=report">Escalation report</a></p>
<div class="scroll"><table id="incidents">
<thead><tr><th>Created</th><th>Title</th><th>Team</th><th>Severity</th><th>Status</th><th class="num">Level</th><th>Acknowledged by</th><th class="num">To ack</th><th class="num hide-narrow">To resolve</th></tr></thead>
<tbody>
${incidents.length > 0 ? incidents.map(row) : html`<tr><td colspan="9" class="muted">No incidents match these filters.</td></tr>`}
</tbody>
</table></div>
<p class="pager">
${options.cursor ? html`<a href="/${queryString(filters)}">Newest</a>` : null}
${nextCursor ? html`<a rel="next" href="/${queryString({ ...filters, cursor: nextCursor })}">Older incidents</a>` : null}
</p>`;
}
