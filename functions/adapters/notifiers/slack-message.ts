import type { Severity } from "../../core/alert.js";
import type { Notification, Recipient } from "../../core/notification.js";

/**
 * The Slack messages of an incident, as Block Kit (https://api.slack.com/block-kit).
 * Pure: the notifier sends what these functions build. User-provided text goes through
 * `escapeMrkdwn`, so an alert cannot inject mentions (`<!channel>`) or links.
 */

export interface PlainText {
  type: "plain_text";
  text: string;
  emoji?: boolean;
}
export interface Mrkdwn {
  type: "mrkdwn";
  text: string;
}
export interface Button {
  type: "button";
  action_id: IncidentAction;
  value: string;
  text: PlainText;
  style?: "primary" | "danger";
}
/** The longer snoozes, beside the Snooze button (30 min). */
export interface Overflow {
  type: "overflow";
  action_id: "snooze_longer";
  options: Array<{ text: PlainText; value: string }>;
}
export type Block =
  | { type: "header"; text: PlainText }
  | { type: "section"; text: Mrkdwn; fields?: Mrkdwn[] }
  | { type: "context"; elements: Mrkdwn[] }
  | { type: "actions"; block_id: string; elements: Array<Button | Overflow> }
  | { type: "divider" };

export interface SlackMessage {
  /** The notification text (push notifications, screen readers, clients without blocks). */
  text: string;
  blocks: Block[];
}

/** The buttons' action ids: the contract with POST /slack/interactions. */
export type IncidentAction = "acknowledge" | "resolve" | "snooze";
export const ACTIONS_BLOCK_ID = "incident-actions";

/** Labels worth a glance in the message, in this order, when present. */
const KEY_LABELS = ["alertname", "job", "instance", "model"];
const DIAGNOSIS_STEPS = 3;
const SEVERITY_EMOJI: Readonly<Record<Severity, string>> = {
  critical: ":red_circle:",
  high: ":large_orange_circle:",
  warning: ":warning:",
  info: ":information_source:",
};

/** Escapes Slack's three control characters (https://api.slack.com/reference/surfaces/formatting#escaping). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A mrkdwn link, or the escaped label alone when the URL is not http(s). */
export function link(url: string, label: string): string {
  if (!/^https?:\/\//i.test(url)) return escapeMrkdwn(label);
  return `<${escapeMrkdwn(url).replace(/\|/g, "%7C")}|${escapeMrkdwn(label)}>`;
}

/** `<@U…>` for people Slack knows, their escaped name otherwise. */
export function mention(recipient: Pick<Recipient, "name" | "slack">): string {
  return recipient.slack ? `<@${recipient.slack}>` : escapeMrkdwn(recipient.name);
}

/** Who acted: a Slack user id becomes a mention, anything else is shown as text. */
function actorText(actor: string | undefined): string {
  if (!actor) return "someone";
  return /^[UW][A-Z0-9]+$/.test(actor) ? `<@${actor}>` : escapeMrkdwn(actor);
}

function limit(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * The incident's message in its channel, as it should look after `notification`:
 * triggered (all three buttons), escalated to level N (all three), acknowledged (Resolve
 * only) or resolved (no buttons). Every button's value is the incident id.
 */
export function incidentMessage(notification: Notification): SlackMessage {
  const { incident, kind } = notification;
  const resolved = kind === "resolve";
  const emoji = resolved ? ":white_check_mark:" : SEVERITY_EMOJI[incident.severity];
  const status =
    kind === "acknowledge" ? "acknowledged" : kind === "resolve" ? "resolved" : "triggered";

  const blocks: Block[] = [
    {
      type: "header",
      text: { type: "plain_text", text: limit(`${emoji} ${incident.title}`, 150), emoji: true },
    },
    {
      type: "section",
      text: { type: "mrkdwn", text: limit(summaryLine(notification), 3000) },
      fields: [
        field("Severity", incident.severity.toUpperCase()),
        field("Team", escapeMrkdwn(incident.team)),
        field("Status", status),
        field("Started", incident.startedAt),
        ...labelFields(incident.labels),
      ],
    },
  ];
  const people = notification.recipients.map(mention);
  if (people.length > 0 && (kind === "trigger" || kind === "escalate")) {
    const who = notification.level > 0 ? `Paged (level ${notification.level})` : "Paged";
    blocks.push({
      type: "section",
      text: { type: "mrkdwn", text: `*${who}:* ${people.join(" ")}` },
    });
  }
  const runbook = runbookText(notification);
  if (runbook) blocks.push({ type: "section", text: { type: "mrkdwn", text: runbook } });
  const links = linksText(notification);
  if (links) blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: links }] });
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: stateLine(notification) }] });
  const buttons = buttonsFor(kind, incident.id);
  if (buttons.length > 0)
    blocks.push({ type: "actions", block_id: ACTIONS_BLOCK_ID, elements: buttons });

  const tag =
    kind === "acknowledge" || kind === "resolve"
      ? status.toUpperCase()
      : incident.severity.toUpperCase();
  const paged = kind === "trigger" || kind === "escalate" ? people : [];
  return {
    text: [
      `[${tag}]`,
      escapeMrkdwn(incident.title),
      `(${escapeMrkdwn(incident.team)})`,
      ...paged,
    ].join(" "),
    blocks,
  };
}

/** The reply in the incident's thread that pages a new level's people. */
export function escalationReply(notification: Notification): SlackMessage {
  const people = notification.recipients.map(mention);
  const who =
    people.length > 0
      ? `${people.join(" ")}, please take a look.`
      : "no one to page at this level.";
  const text = `:arrow_double_up: Escalated to level ${notification.level}: ${who}`;
  const blocks: Block[] = [{ type: "section", text: { type: "mrkdwn", text } }];
  const runbook = notification.runbook;
  if (runbook) {
    blocks.push({
      type: "context",
      elements: [
        { type: "mrkdwn", text: `Start with the runbook: ${link(runbook.url, runbook.name)}` },
      ],
    });
  }
  return { text, blocks };
}

function field(name: string, value: string): Mrkdwn {
  return { type: "mrkdwn", text: limit(`*${name}*\n${value}`, 2000) };
}

function labelFields(labels: Readonly<Record<string, string>>): Mrkdwn[] {
  return KEY_LABELS.filter((name) => labels[name]).map((name) =>
    field(name, `\`${escapeMrkdwn(labels[name]!.replace(/`/g, "'"))}\``),
  );
}

function summaryLine(notification: Notification): string {
  const { incident } = notification;
  const description = incident.annotations.description || incident.annotations.summary;
  return description ? escapeMrkdwn(description) : `*${escapeMrkdwn(incident.title)}*`;
}

function runbookText(notification: Notification): string | null {
  const runbook = notification.runbook;
  if (!runbook) {
    const known = notification.incident.runbook;
    return known ? `*Runbook:* ${link(known.url, known.name)}` : null;
  }
  const steps = runbook.diagnosis
    .slice(0, DIAGNOSIS_STEPS)
    .map((step, i) => `${i + 1}. ${escapeMrkdwn(limit(step, 600))}`);
  const text = [
    `*Runbook:* ${link(runbook.url, runbook.name)}`,
    escapeMrkdwn(runbook.summary),
    ...steps,
  ];
  return limit(text.join("\n"), 3000);
}

function linksText(notification: Notification): string | null {
  const { incident } = notification;
  const links = [
    incident.generatorUrl && link(incident.generatorUrl, "Alert source"),
    incident.dashboardUrl && link(incident.dashboardUrl, "Dashboard"),
    incident.silenceUrl && link(incident.silenceUrl, "Silence"),
  ].filter((text): text is string => Boolean(text));
  return links.length > 0 ? links.join("  ·  ") : null;
}

function stateLine(notification: Notification): string {
  const { incident } = notification;
  switch (notification.kind) {
    case "trigger":
      return `Incident \`${escapeMrkdwn(incident.id)}\` triggered`;
    case "escalate":
      return `:arrow_double_up: Escalated to level ${notification.level}`;
    case "acknowledge":
      return `:eyes: Acknowledged by ${actorText(notification.actor ?? incident.acknowledgedBy ?? undefined)}`;
    case "resolve":
      return `:white_check_mark: Resolved by ${actorText(notification.actor ?? incident.resolvedBy ?? undefined)}`;
  }
}

function buttonsFor(kind: Notification["kind"], incidentId: string): Array<Button | Overflow> {
  const button = (action: IncidentAction, label: string, style?: Button["style"]): Button => ({
    type: "button",
    action_id: action,
    value: incidentId,
    text: { type: "plain_text", text: label, emoji: true },
    ...(style ? { style } : {}),
  });
  if (kind === "resolve") return [];
  if (kind === "acknowledge") return [button("resolve", "Resolve", "primary")];
  return [
    button("acknowledge", "Acknowledge", "primary"),
    button("resolve", "Resolve"),
    button("snooze", "Snooze 30 min"),
    {
      type: "overflow",
      action_id: "snooze_longer",
      options: (["1h", "4h"] as const).map((length) => ({
        text: { type: "plain_text", text: `Snooze ${length.replace("h", " h")}`, emoji: true },
        value: `${incidentId}|${length}`,
      })),
    },
  ];
}
