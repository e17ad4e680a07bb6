import { html, SafeHtml } from "./html.js";

/** One stylesheet for every page: readable on a laptop and a phone, no external assets. */
const STYLE = `
:root { color-scheme: light dark; --fg:#1b1f24; --muted:#5b6470; --bg:#fff; --card:#f5f6f8; --line:#d9dde3; --accent:#0b5cad;
  --critical:#b3261e; --high:#c25e00; --warning:#8a6d00; --info:#4a5560; --ok:#1e7b34; }
@media (prefers-color-scheme: dark) { :root { --fg:#e6e8eb; --muted:#9aa4af; --bg:#14171a; --card:#1d2126; --line:#2f353c; --accent:#6fb1ff; } }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
header.top { display:flex; flex-wrap:wrap; gap:.5rem 1.25rem; align-items:center; padding:.75rem 1rem; border-bottom:1px solid var(--line); }
header.top .brand { font-weight:700; }
header.top nav a { margin-right:1rem; }
header.top form { margin-left:auto; }
main { max-width:1200px; margin:0 auto; padding:1rem; }
a { color:var(--accent); }
h1 { font-size:1.35rem; margin:.25rem 0 1rem; overflow-wrap:anywhere; }
h2 { font-size:1.1rem; margin:1.5rem 0 .5rem; }
form.filters { display:flex; flex-wrap:wrap; gap:.5rem .75rem; align-items:flex-end; background:var(--card); padding:.75rem; border-radius:8px; }
form.filters label { display:flex; flex-direction:column; font-size:.8rem; color:var(--muted); }
input, select, button { font:inherit; padding:.35rem .5rem; border:1px solid var(--line); border-radius:6px; background:var(--bg); color:var(--fg); }
button { cursor:pointer; background:var(--accent); color:#fff; border-color:var(--accent); }
button.link { background:none; color:var(--accent); border:none; padding:0; text-decoration:underline; }
.scroll { overflow-x:auto; }
table { border-collapse:collapse; width:100%; margin:.5rem 0; }
th, td { text-align:left; padding:.4rem .5rem; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-size:.8rem; color:var(--muted); font-weight:600; white-space:nowrap; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
td.wrap { overflow-wrap:anywhere; min-width:12rem; }
.badge { display:inline-block; padding:0 .45rem; border-radius:999px; font-size:.8rem; border:1px solid currentColor; white-space:nowrap; }
.sev-critical { color:var(--critical); } .sev-high { color:var(--high); } .sev-warning { color:var(--warning); } .sev-info { color:var(--info); }
.st-resolved, .delivered { color:var(--ok); } .failed { color:var(--critical); } .not_delivered { color:var(--warning); }
.muted, .badge.test { color:var(--muted); }
.cards { display:grid; grid-template-columns:repeat(auto-fit, minmax(14rem, 1fr)); gap:.75rem; }
.card { background:var(--card); border-radius:8px; padding:.75rem 1rem; }
.card .big { font-size:1.4rem; font-weight:600; }
dl.fields { display:grid; grid-template-columns:max-content 1fr; gap:.25rem 1rem; margin:0; }
dl.fields dt { color:var(--muted); }
dl.fields dd { margin:0; overflow-wrap:anywhere; }
ol.timeline { list-style:none; padding:0; margin:0; border-left:2px solid var(--line); }
ol.timeline li { padding:.25rem 0 .5rem .75rem; }
ol.timeline time { color:var(--muted); font-size:.85rem; margin-right:.5rem; }
section.level { border:1px solid var(--line); border-radius:8px; padding:.5rem .75rem; margin:.5rem 0; }
section.level h3 { font-size:1rem; margin:.25rem 0; }
.chart { max-width:100%; height:auto; color:var(--accent); }
.chart text { fill:var(--muted); font-size:11px; }
.chart line { stroke:var(--line); }
.error { background:#fde8e7; color:#7a1410; padding:.5rem .75rem; border-radius:6px; }
.signin { max-width:26rem; margin:3rem auto; }
.signin input { width:100%; margin:.5rem 0 1rem; }
.pager { margin:1rem 0; display:flex; gap:1rem; flex-wrap:wrap; }
@media (max-width: 640px) { main { padding:.5rem; } th, td { padding:.35rem .3rem; } .hide-narrow { display:none; } }
`;

/** Our own constant CSS, not user input: the one string put in the page unescaped. */
const TRUSTED_STYLE = new SafeHtml(STYLE);

export interface PageOptions {
  title: string;
  nonce: string;
  body: SafeHtml;
  /** Signed in: the navigation and the sign-out button show. */
  signedIn: boolean;
}

/** The document around every page: viewport for phones, the nonce'd stylesheet, navigation. */
export function layout({ title, nonce, body, signedIn }: PageOptions): SafeHtml {
  return html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title} · tocsin</title>
<style nonce="${nonce}">${TRUSTED_STYLE}</style>
</head>
<body>
<header class="top">
  <span class="brand">tocsin</span>
  ${
    signedIn
      ? html`<nav><a href="/">Incidents</a><a href="/?view=report">Report</a></nav>
  <form method="post" action="/logout"><button class="link" type="submit">Sign out</button></form>`
      : null
  }
</header>
<main>
${body}
</main>
</body>
</html>`;
}

/** The sign-in form: the API token, posted once; the browser keeps a session cookie. */
export function signInPage(nonce: string, problem?: string): SafeHtml {
  return layout({
    title: "Sign in",
    nonce,
    signedIn: false,
    body: html`<div class="signin">
<h1>Sign in to tocsin</h1>
<p class="muted">Enter the API token (<code>TOCSIN_API_TOKEN</code>; printed by <code>npm start</code>, or in Secrets Manager on AWS).</p>
${problem ? html`<p class="error" role="alert">${problem}</p>` : null}
<form method="post" action="/login">
  <label for="token">API token</label>
  <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
  <button type="submit">Sign in</button>
</form>
</div>`,
  });
}

/** A page that says what went wrong (a bad filter, an unknown incident). */
export function problemPage(nonce: string, title: string, message: string): SafeHtml {
  return layout({
    title,
    nonce,
    signedIn: true,
    body: html`<h1>${title}</h1><p class="error" role="alert">${message}</p><p><a href="/">Back to the incidents</a></p>`,
  });
}
