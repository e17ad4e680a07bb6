import type { HttpResult } from "../../adapters/http/types.js";
import type { Incident } from "../../core/incident.js";
import { html, htmlResponse, newNonce, type SafeHtml } from "../../pages/html.js";

/*
 * The pages of an acknowledgement link: what it would do (GET) and what it did (POST). No
 * script, no outgoing link, nothing loaded: a mail scanner or a link previewer that fetches
 * the GET sees a form and does not submit it. The URL carries the token, so the page sends
 * no referrer and is not cached or indexed.
 */

const STYLE = `body{font:16px/1.45 system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.25rem}dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem}dt{color:#555}
button{font-size:1.1rem;padding:.6rem 1.2rem;border:0;border-radius:.4rem;background:#0b57d0;color:#fff}
p.error{color:#a50e0e}`;

const LINK_HEADERS = { "referrer-policy": "no-referrer", "x-robots-tag": "noindex, nofollow" };

function page(statusCode: number, title: string, content: SafeHtml): HttpResult {
  const nonce = newNonce();
  const body = html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${title} · tocsin</title><style nonce="${nonce}">${STYLE}</style></head><body>${content}</body></html>`;
  const response = htmlResponse(statusCode, body, nonce, LINK_HEADERS);
  // No stylesheet but the inline one, no script, and the form posts only to this URL.
  return response;
}

export type LinkAction = "acknowledge" | "resolve";
const VERB = { acknowledge: "Acknowledge", resolve: "Resolve" } as const;

function facts(incident: Pick<Incident, "title" | "severity" | "status" | "team">): SafeHtml {
  return html`<dl><dt>Incident</dt><dd>${incident.title}</dd><dt>Severity</dt><dd>${incident.severity}</dd><dt>Status</dt><dd>${incident.status}</dd><dt>Team</dt><dd>${incident.team}</dd></dl>`;
}

/** GET: the incident and one button that acts as the person (a POST to this same URL). */
export function confirmationPage(
  incident: Pick<Incident, "title" | "severity" | "status" | "team">,
  action: LinkAction,
  person: string,
): HttpResult {
  return page(
    200,
    `${VERB[action]} ${incident.title}`,
    html`<h1>${VERB[action]} this incident?</h1>${facts(incident)}<form method="post"><button type="submit">${VERB[action]} as ${person}</button></form>`,
  );
}

/** POST done: what was done, by whom. */
export function donePage(
  incident: Pick<Incident, "title" | "severity" | "status" | "team">,
  message: string,
): HttpResult {
  return page(
    200,
    "Done",
    html`<h1>${message}</h1>${facts(incident)}<p>You can close this page.</p>`,
  );
}

/** A refusal (401, 404, 409), as the JSON answer says it. */
export function refusalPage(statusCode: number, message: string): HttpResult {
  return page(
    statusCode,
    "Nothing changed",
    html`<h1>Nothing changed</h1><p class="error">${message}</p>`,
  );
}
