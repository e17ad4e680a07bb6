import { valuesText } from "../../core/alert.js";
import type { Notification, Recipient } from "../../core/notification.js";

/** An email as the notifier hands it to SNS or to the local outbox. */
export interface EmailMessage {
  to: string;
  subject: string;
  body: string;
}

/** SNS wants subjects under 100 characters, without line breaks or control characters. */
const SUBJECT_LIMIT = 99;
/** SNS messages are at most 256 KiB; leave room for SNS's own envelope. */
const BODY_LIMIT_BYTES = 250 * 1024;

/** `[CRITICAL] <title> (ml-training)`, `[RESOLVED] …`, within SNS's subject rules. */
export function emailSubject(notification: Notification): string {
  const { incident, kind, level } = notification;
  const tag =
    kind === "acknowledge"
      ? "[ACKNOWLEDGED]"
      : kind === "resolve"
        ? "[RESOLVED]"
        : incident.test
          ? "[TEST]"
          : `[${incident.severity.toUpperCase()}]`;
  const prefix = kind === "escalate" ? `${tag} Level ${level}: ` : `${tag} `;
  const suffix = ` (${oneLine(incident.team)})`;
  const room = SUBJECT_LIMIT - prefix.length - suffix.length;
  const title = [...oneLine(incident.title)];
  const shown = title.length <= room ? title.join("") : `${title.slice(0, room - 3).join("")}...`;
  return [...`${prefix}${shown}${suffix}`].slice(0, SUBJECT_LIMIT).join("");
}

/**
 * A plain-text email for a person: what happened, severity, team, the people paged, key
 * facts and links, then (for trigger and escalate) the whole runbook as Markdown, so the
 * reader can start without opening anything else.
 */
export function emailBody(notification: Notification): string {
  const { incident, runbook } = notification;
  const facts: Array<[string, string | null | undefined]> = [
    ["What", incident.title],
    ["Details", incident.annotations.description],
    ["Values", valuesText(incident)],
    ["Severity", incident.severity],
    ["Team", incident.team],
    ["Status", statusText(notification)],
    ["Started", incident.startedAt],
    ["Incident", incident.id],
    ["Paged", notification.recipients.map(person).join(", ") || null],
  ];
  const links: Array<[string, string | null | undefined]> = [
    ["Alert source", incident.generatorUrl],
    ["Dashboard", incident.dashboardUrl],
    ["Silence", incident.silenceUrl],
    ["Panel image", incident.imageUrl],
    ["Runbook", runbook?.url ?? incident.runbook?.url],
  ];
  const labels = Object.entries(incident.labels).sort(([a], [b]) => a.localeCompare(b));

  const lines = [
    `${incident.severity.toUpperCase()}: ${incident.title}`,
    "",
    leadText(notification),
    "",
    ...actionLinks(notification),
    ...table(facts),
    "",
    "Labels",
    ...table(labels, "  "),
  ];
  const present = links.filter(([, url]) => url);
  if (present.length > 0) lines.push("", "Links", ...table(present, "  "));
  const whole = runbook && (notification.kind === "trigger" || notification.kind === "escalate");
  if (whole) {
    lines.push(
      "",
      "=".repeat(72),
      `Runbook: ${runbook.name}`,
      runbook.url,
      "",
      runbook.summary,
      "=".repeat(72),
      "",
      runbook.body.trim(),
    );
  }
  return fitBytes(`${lines.join("\n")}\n`, runbook?.url ?? incident.runbook?.url);
}

/**
 * The signed links that act as the person (GET shows a confirmation page, its button acts),
 * first, so that they are what a phone's mail preview shows.
 */
function actionLinks(notification: Notification): string[] {
  const { links, kind } = notification;
  if (!links || (kind !== "trigger" && kind !== "escalate")) return [];
  return [
    ...table([
      ["Acknowledge", links.acknowledge],
      ["Resolve", links.resolve],
    ]),
    "",
  ];
}

function leadText(notification: Notification): string {
  const { incident, kind, level } = notification;
  const actor = notification.actor ?? "someone";
  switch (kind) {
    case "trigger":
      if (incident.test)
        return "This is a test notification from Grafana (its contact point's Test button): nobody is paged, and the incident resolves by itself.";
      return level > 0
        ? `A ${incident.severity} incident for team ${incident.team} needs you (escalation level ${level}).`
        : `A ${incident.severity} incident was opened for team ${incident.team}.`;
    case "escalate":
      return `Nobody has acknowledged this incident yet: it is escalated to level ${level}.`;
    case "acknowledge":
      return `Acknowledged by ${actor}${incident.acknowledgedAt ? ` at ${incident.acknowledgedAt}` : ""}.`;
    case "resolve":
      return `Resolved by ${actor}${incident.resolvedAt ? ` at ${incident.resolvedAt}` : ""}.`;
  }
}

function statusText(notification: Notification): string {
  const { kind, level } = notification;
  if (kind === "acknowledge") return "acknowledged";
  if (kind === "resolve") return "resolved";
  return level > 0 ? `triggered, escalation level ${level}` : "triggered";
}

function person(recipient: Recipient): string {
  return recipient.email ? `${recipient.name} <${recipient.email}>` : recipient.name;
}

/** Aligned `name: value` rows, skipping empty values. */
function table(
  rows: ReadonlyArray<readonly [string, string | null | undefined]>,
  indent = "",
): string[] {
  const present = rows.filter((row): row is readonly [string, string] => Boolean(row[1]));
  const width = Math.max(0, ...present.map(([name]) => name.length)) + 1;
  return present.map(([name, value]) => `${indent}${`${name}:`.padEnd(width)} ${oneLine(value)}`);
}

function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes
  return text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
}

function fitBytes(body: string, runbookUrl: string | undefined): string {
  if (Buffer.byteLength(body, "utf8") <= BODY_LIMIT_BYTES) return body;
  const note = `\n\n[cut to fit an email; read the rest at ${runbookUrl ?? "the runbook"}]\n`;
  const bytes = Buffer.from(body, "utf8").subarray(0, BODY_LIMIT_BYTES - Buffer.byteLength(note));
  // A cut in the middle of a character decodes to U+FFFD; drop it.
  return `${bytes.toString("utf8").replace(/\uFFFD$/, "")}${note}`;
}
