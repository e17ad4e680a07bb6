import { type Alert, labelSet } from "./alert.js";
import { InvalidInputError } from "./errors.js";

/**
 * How many bytes (UTF-8, names included) of labels, annotations and links one incident keeps.
 * An incident and its timeline are one DynamoDB item, at most 400 KB; this leaves more than
 * 360 KB for the timeline a long escalation appends (about a thousand events), and keeps
 * each write of the incident cheap (DynamoDB bills a write by the size of the whole item).
 * Real alerts are a few KB; a page needs its summary, not a log dump.
 */
export const ALERT_CONTENT_LIMIT = 32 * 1024;

/** The most bytes label and annotation names may take: a value can be cut, a name cannot. */
export const NAMES_LIMIT = 8 * 1024;

/** What was cut from an alert to fit, for its timeline. */
export interface Cut {
  /** `annotations.description`, `labels.pod`, `generatorUrl`… */
  field: string;
  bytes: number;
  /** Bytes kept, the marker included; 0 for a link dropped whole (half a link is no link). */
  keptBytes: number;
}

/** The length of `text` in UTF-8 (a lone surrogate as U+FFFD, 3 bytes, as encoders write it). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit < 0xdc00 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

const utf8 = utf8Length;

/** An alert as it will be stored, and what was cut from it to fit. */
export interface FittedAlert {
  alert: Alert;
  cuts: Cut[];
}

/** The marker that ends a cut value, saying how long it was. */
const marker = (bytes: number) => ` …[cut by tocsin from ${bytes} bytes]`;

/** The longest prefix of `text` within `bytes` of UTF-8, never splitting a character. */
export function utf8Prefix(text: string, bytes: number): string {
  let used = 0;
  let end = 0;
  for (const character of text) {
    const size = utf8(character);
    if (used + size > bytes) break;
    used += size;
    end += character.length;
  }
  return text.slice(0, end);
}

interface Value {
  field: string;
  bytes: number;
  set: (kept: string | null) => unknown;
  text: string;
  link: boolean;
}

/**
 * The largest per-value cap under which the values fit `budget` (water-filling): values at
 * or under it stay whole, the larger ones are cut to it, so the small ones (alertname,
 * severity, summary) survive a single huge one.
 */
function capFor(sizes: number[], budget: number): number {
  const sorted = [...sizes].sort((a, b) => a - b);
  let left = budget;
  for (const [i, size] of sorted.entries()) {
    const share = Math.floor(left / (sorted.length - i));
    if (size > share) return share;
    left -= size;
  }
  return Number.POSITIVE_INFINITY;
}

/**
 * The alert cut to fit ALERT_CONTENT_LIMIT, and what was cut; the alert itself when it fits.
 * Values over the cap keep their start and a marker with their full length; a link over
 * it is dropped. Pure; the fingerprint and routing use the alert as sent.
 * Throws InvalidInputError naming `<path>.labels` or `.annotations` when the names alone
 * exceed NAMES_LIMIT.
 */
export function fitAlert(alert: Alert, path = "", limit = ALERT_CONTENT_LIMIT): FittedAlert {
  const sets = {
    labels: new Map(Object.entries(alert.labels)),
    annotations: new Map(Object.entries(alert.annotations)),
  };
  let valueText = alert.valueText;
  // Links, ids and the measured values are kept whole or dropped: half a link is no link.
  const whole = {
    generatorUrl: alert.generatorUrl,
    dashboardUrl: alert.dashboardUrl,
    silenceUrl: alert.silenceUrl,
    imageUrl: alert.imageUrl,
    ruleId: alert.ruleId,
    values: alert.values,
  };
  let names = 0;
  const values: Value[] = [];
  for (const kind of ["labels", "annotations"] as const) {
    for (const [name, text] of sets[kind]) {
      names += utf8(name);
      values.push({
        field: `${kind}.${name}`,
        bytes: utf8(text),
        text,
        link: false,
        set: (kept) => sets[kind].set(name, kept ?? ""),
      });
    }
    if (names > NAMES_LIMIT) {
      throw new InvalidInputError(
        path ? `${path}.${kind}` : kind,
        `label and annotation names take ${names} bytes or more; at most ${NAMES_LIMIT} fit`,
      );
    }
  }
  if (valueText) {
    values.push({
      field: "valueText",
      bytes: utf8(valueText),
      text: valueText,
      link: false,
      set: (kept) => {
        valueText = kept;
      },
    });
  }
  for (const field of Object.keys(whole) as Array<keyof typeof whole>) {
    const value = whole[field];
    if (value === null || value === undefined) continue;
    const text = typeof value === "string" ? value : JSON.stringify(value);
    values.push({
      field,
      bytes: utf8(text),
      text,
      link: true,
      set: () => {
        whole[field] = null;
      },
    });
  }
  const total = names + values.reduce((sum, value) => sum + value.bytes, 0);
  if (total <= limit) return { alert, cuts: [] };
  const cap = capFor(
    values.map((value) => value.bytes),
    limit - names,
  );
  const cuts: Cut[] = [];
  for (const value of values) {
    if (value.bytes <= cap) continue;
    if (value.link) {
      value.set(null);
      cuts.push({ field: value.field, bytes: value.bytes, keptBytes: 0 });
      continue;
    }
    // The marker says how long the value was, where it fits; a tiny cap keeps an ellipsis.
    const long = marker(value.bytes);
    const end = utf8(long) <= cap ? long : cap >= 3 ? "…" : "";
    const kept = `${utf8Prefix(value.text, Math.max(0, cap - utf8(end)))}${end}`;
    value.set(kept);
    cuts.push({ field: value.field, bytes: value.bytes, keptBytes: utf8(kept) });
  }
  return {
    alert: {
      ...alert,
      ...whole,
      valueText,
      labels: labelSet(sets.labels),
      annotations: labelSet(sets.annotations),
    },
    cuts,
  };
}

/** The timeline's note on what was cut, e.g. "annotations.description cut from 400000 to 16000 bytes". */
export function describeCuts(cuts: readonly Cut[]): string {
  const parts = cuts.map((cut) =>
    cut.keptBytes === 0
      ? `${cut.field} (${cut.bytes} bytes) dropped`
      : `${cut.field} cut from ${cut.bytes} to ${cut.keptBytes} bytes`,
  );
  return `to fit one incident (${ALERT_CONTENT_LIMIT} bytes of labels, annotations and links): ${parts.join(", ")}`;
}
