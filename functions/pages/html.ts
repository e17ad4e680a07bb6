import { randomBytes } from "node:crypto";
import type { HttpResult } from "../adapters/http/types.js";

/** Markup that is already safe: made by `html` from escaped parts. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
  "`": "&#96;",
};

/** Escapes text for an element's content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

export type HtmlValue =
  | SafeHtml
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

/**
 * Builds markup from a template: every interpolated value is escaped unless it is SafeHtml
 * (itself made by `html`), so a label or annotation can never become markup. Attribute
 * values must be quoted in the template.
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1]!;
  });
  return new SafeHtml(out);
}

/**
 * An href for a URL from an alert (runbook, dashboard): only http(s) and same-site paths,
 * so `javascript:` and `data:` never reach a link. Null when refused.
 */
export function safeHref(url: string | null | undefined): string | null {
  if (!url) return null;
  if (url.startsWith("/") && !url.startsWith("//")) return url;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/** A fresh CSP nonce for one response. */
export const newNonce = () => randomBytes(16).toString("base64");

/**
 * The page's Content-Security-Policy: nothing loads or runs unless named here; the one
 * stylesheet is inline with the response's nonce; no script at all; forms post only here.
 */
export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    "script-src 'none'",
    "img-src 'self' data:",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; ");
}

/** An HTML response with the headers every page carries. */
export function htmlResponse(
  statusCode: number,
  body: SafeHtml,
  nonce: string,
  headers: Record<string, string> = {},
): HttpResult {
  return {
    statusCode,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": contentSecurityPolicy(nonce),
      "x-content-type-options": "nosniff",
      // same-origin, not no-referrer: with no-referrer Chromium sends `Origin: null` on form posts.
      "referrer-policy": "same-origin",
      "x-frame-options": "DENY",
      "cache-control": "no-store",
      ...headers,
    },
    body: `<!doctype html>\n${body.value}`,
  };
}
