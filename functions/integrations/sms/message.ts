import { parsePhoneNumberFromString } from "libphonenumber-js";
import { SegmentedMessage } from "sms-segments-calculator";
import type { Notification } from "../../core/notification.js";

/** What a text may cost at most: two segments (306 GSM-7 characters, 134 UCS-2). */
export const SMS_MAX_SEGMENTS = 2;

const SEVERITY_TAG: Record<string, string> = {
  critical: "CRIT",
  high: "HIGH",
  warning: "WARN",
  info: "INFO",
};

export interface SmsTextOptions {
  /** The signed acknowledgement link (kept whole: a cut link acknowledges nothing). */
  ackLink?: string | undefined;
  /** Whether a reply of `1` acknowledges (the deployment has a two-way number). */
  replies?: boolean | undefined;
}

/**
 * The text of a page: `tocsin CRIT <title> (<team>) Ack: <link> or reply 1`, the title
 * shortened (by whole characters, emoji included) until the text fits SMS_MAX_SEGMENTS as
 * carriers count them (GSM-7 or UCS-2, with the concatenation header; sms-segments-calculator).
 * SNS splits longer texts into more segments, each billed and each a separate buzz.
 * https://docs.aws.amazon.com/sns/latest/dg/sms_publish-to-phone.html
 */
export function smsText(notification: Notification, options: SmsTextOptions = {}): string {
  const { incident, level, kind } = notification;
  const tag = incident.test
    ? "TEST"
    : (SEVERITY_TAG[incident.severity] ?? incident.severity.toUpperCase());
  const where = kind === "escalate" && level > 1 ? ` L${level}` : "";
  const head = `tocsin ${tag}${where} `;
  const team = ` (${oneLine(incident.team)})`;
  const tail = ackTail(options);
  const title = graphemes(oneLine(incident.title));
  const text = (n: number) =>
    `${head}${n >= title.length ? title.join("") : `${title.slice(0, n).join("").trimEnd()}...`}${team}${tail}`;
  const whole = new SegmentedMessage(text(title.length), "auto");
  if (whole.segmentsCount <= SMS_MAX_SEGMENTS) return text(title.length);
  // The calculator is slow (milliseconds per call): cut by the encoding's own arithmetic
  // (GSM-7: 153 septets a segment, its extension characters two each; UCS-2: 67 UTF-16
  // units), then let the calculator confirm, shaving a character while it disagrees.
  const gsm = whole.encodingName === "GSM-7";
  const cost = (chunk: string) =>
    gsm ? [...chunk].reduce((sum, c) => sum + (GSM_EXTENSION.has(c) ? 2 : 1), 0) : chunk.length;
  let budget = SMS_MAX_SEGMENTS * (gsm ? 153 : 67) - cost(`${head}...${team}${tail}`);
  let n = 0;
  while (n < title.length && cost(title[n]!) <= budget) budget -= cost(title[n++]!);
  while (n > 0 && segments(text(n)) > SMS_MAX_SEGMENTS) n -= 1;
  return text(n);
}

/** GSM 03.38's extension table: each costs an escape and itself (two septets). */
const GSM_EXTENSION = new Set(["^", "{", "}", "\\", "[", "~", "]", "|", "€", "\f"]);

function ackTail(options: SmsTextOptions): string {
  if (options.ackLink) return ` Ack: ${options.ackLink}${options.replies ? " or reply 1" : ""}`;
  return options.replies ? " Reply 1 to ack" : "";
}

/** Segments a carrier bills for `text`. */
export function segments(text: string): number {
  return new SegmentedMessage(text, "auto").segmentsCount;
}

/**
 * A phone number as logs and timelines show it: the country code and the last four digits
 * (`+44•••••0123`), enough for a person to recognise their own number, not to dial it.
 */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, "");
  const country = parsePhoneNumberFromString(phone)?.countryCallingCode ?? digits.slice(0, 1);
  const hidden = Math.max(0, digits.length - country.length - 4);
  return `+${country}${"•".repeat(hidden)}${digits.slice(country.length + hidden)}`;
}

/** Masks every phone-number-like run of digits in `text` (provider error messages quote them). */
export function maskPhonesIn(text: string): string {
  return text.replace(/\+?\d[\d ()-]{6,}\d/g, (match) => {
    const digits = match.replace(/\D/g, "");
    return digits.length >= 7 ? maskPhone(`+${digits}`) : match;
  });
}

function graphemes(text: string): string[] {
  return [...new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(text)].map(
    (s) => s.segment,
  );
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes
const CONTROL = /[\u0000-\u001f\u007f]+/g;

function oneLine(text: string): string {
  return text.replace(CONTROL, " ").replace(/\s+/g, " ").trim();
}
