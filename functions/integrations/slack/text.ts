/**
 * Text for Slack's mrkdwn within Block Kit's limits (https://docs.slack.dev/reference/block-kit/blocks):
 * escaping, links that fit or are shortened (never cut), and cuts that never split a UTF-16
 * surrogate pair, an escaped character or a link. Lengths are UTF-16 code units, as Slack counts.
 */

/** Slack's documented limits that the messages are built to. */
export const LIMITS = { textObject: 3000, header: 150, url: 3000 } as const;

/**
 * Escapes Slack's three control characters (https://api.slack.com/reference/surfaces/formatting#escaping),
 * and replaces a lone UTF-16 surrogate (JSON can carry one: `"\ud83d"`) with U+FFFD, since
 * Slack refuses text that is not valid UTF-8.
 */
export function escapeMrkdwn(text: string): string {
  return wellFormed(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** `text` with each lone surrogate replaced by U+FFFD (String.prototype.toWellFormed, ES2024). */
export function wellFormed(text: string): string {
  return text.replace(
    /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    "\ufffd",
  );
}

/** A mrkdwn link, or the escaped label alone when the URL is not http(s). */
export function link(url: string, label: string): string {
  if (!/^https?:\/\//i.test(url)) return escapeMrkdwn(label);
  return `<${escapeMrkdwn(url).replace(/\|/g, "%7C")}|${escapeMrkdwn(label)}>`;
}

/**
 * `link(url, label)` in at most `max` characters (and a URL within Slack's 3,000): else a link
 * to the URL's server and path without its query, labelled "(shortened)"; else the label
 * alone, saying why. A URL is never cut: half a URL opens the wrong page.
 */
export function fittedLink(url: string, label: string, max: number): string {
  const fits = (text: string, target: string) =>
    text.length <= max && escapeMrkdwn(target).length <= LIMITS.url;
  const full = link(url, label);
  if (fits(full, url)) return full;
  const shorter = shortenedUrl(url);
  if (shorter) {
    const shortened = link(shorter, `${label} (shortened)`);
    if (fits(shortened, shorter)) return shortened;
  }
  return clip(`${escapeMrkdwn(label)} (link too long for Slack)`, max, "mrkdwn");
}

/** The URL's origin and path, without query or fragment; null when that is no shorter. */
function shortenedUrl(url: string): string | null {
  if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) return null;
  const { origin, pathname } = new URL(url);
  const shorter = `${origin}${pathname}`;
  return shorter.length < url.length ? shorter : null;
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;

/**
 * `text` cut to at most `max` UTF-16 code units (what Slack counts), ending in "…" when cut.
 * The cut never splits a surrogate pair (half an emoji is invalid UTF-8); in mrkdwn it never
 * splits an escaped character (`&amp;`) or a `<link|label>` / `<@mention>` either.
 */
export function clip(text: string, max: number, kind: "plain" | "mrkdwn" = "plain"): string {
  if (text.length <= max) return text;
  let end = max - 1;
  if (isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
  if (kind === "mrkdwn") {
    const amp = text.lastIndexOf("&", end - 1);
    if (amp >= 0 && amp > end - 5 && !text.slice(amp, end).includes(";")) end = amp;
    const open = text.lastIndexOf("<", end - 1);
    if (open >= 0 && open > text.lastIndexOf(">", end - 1)) end = open;
  }
  return `${text.slice(0, end)}…`;
}

/** All the text of some blocks, as Slack counts it for `msg_blocks_too_long`. */
export function textLength(value: unknown): number {
  if (Array.isArray(value)) return value.reduce<number>((n, item) => n + textLength(item), 0);
  if (typeof value !== "object" || value === null) return 0;
  return Object.entries(value).reduce<number>(
    (n, [key, item]) =>
      n + (key === "text" && typeof item === "string" ? item.length : textLength(item)),
    0,
  );
}
