import { type Severity, valuesText } from "../../core/alert.js";
import { SNOOZE_CHOICES } from "../../core/incident.js";
import type { Notification, Recipient } from "../../core/notification.js";
import { clip, escapeMrkdwn, fittedLink, LIMITS, textLength, wellFormed } from "./text.js";

/**
 * The Slack messages of an incident, as Block Kit (https://api.slack.com/block-kit).
 * Pure: the notifier sends what these functions build. User-provided text goes through
 * `escapeMrkdwn`, so an alert cannot inject mentions (`<!channel>`) or links.
 *
 * Every text fits Block Kit's documented limits (https://docs.slack.dev/reference/block-kit/blocks):
 * a text object 3,000 characters, a header 150, a section field 2,000, a URL 3,000, 10 context
 * elements, 50 blocks; and all the text of one message stays under `MESSAGE_TEXT_BUDGET`,
 * since Slack refuses a message whose blocks carry too much in all (`msg_blocks_too_long`,
 * undocumented; reported from about 11,000 characters). Cuts never split a UTF-16 surrogate
 * pair, an escaped character or a link; a link too long to fit is shortened to its server's
 * page or left out, never cut.
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
/** The longer snoozes, beside the Snooze button (the shortest): SNOOZE_CHOICES after the first. */
export interface Overflow {
  type: "overflow";
  action_id: "snooze_longer";
  options: Array<{ text: PlainText; value: string }>;
}
export type Block =
  | { type: "header"; text: PlainText }
  | { type: "section"; text: Mrkdwn; fields?: Mrkdwn[] }
  | { type: "context"; elements: Mrkdwn[] }
  | { type: "image"; image_url: string; alt_text: string }
  | { type: "actions"; block_id: string; elements: Array<Button | Overflow> }
  | { type: "divider" };

export interface SlackMessage {
  /** The notification text (push notifications, screen readers, clients without blocks). */
  text: string;
  blocks: Block[];
}

/** The buttons' action ids: the contract with POST /slack/interactions. */
export type IncidentAction = "acknowledge" | "resolve" | "snooze";
/** The buttons' block_id, followed by the message's version when it has one. */
export const ACTIONS_BLOCK_ID = "incident-actions";

/** At most this much text in one message's blocks (Slack refuses about 11,000 and more). */
export const MESSAGE_TEXT_BUDGET = 8000;
/** What each part of the incident's message may take of the budget. */
const PART = {
  summary: 2000,
  field: 200,
  paged: 1000,
  runbook: 1500,
  stateLine: 300,
  title: 150,
  team: 80,
} as const;

/** Labels worth a glance in the message, in this order, when present. */
const KEY_LABELS = ["alertname", "job", "instance", "model"];
const DIAGNOSIS_STEPS = 3;
const SEVERITY_EMOJI: Readonly<Record<Severity, string>> = {
  critical: ":red_circle:",
  high: ":large_orange_circle:",
  warning: ":warning:",
  info: ":information_source:",
};

/** `<@U…>` for people Slack knows, their escaped name otherwise. */
export function mention(recipient: Pick<Recipient, "name" | "slack">): string {
  return recipient.slack ? `<@${recipient.slack}>` : escapeMrkdwn(recipient.name);
}

/** Who acted: a Slack user id becomes a mention, anything else is shown as text. */
function actorText(actor: string | undefined): string {
  if (!actor) return "someone";
  return /^[UW][A-Z0-9]+$/.test(actor) ? `<@${actor}>` : escapeMrkdwn(actor);
}

/**
 * The incident's message in its channel, as it should look after `notification`:
 * triggered (all three buttons), escalated to level N (all three), acknowledged (Resolve
 * only) or resolved (no buttons). Every button's value is the incident id. `version` names
 * this version of the message in the buttons' block_id: Slack keeps the state of a block's
 * elements by block_id, so an update should bring a new one.
 */
export function incidentMessage(
  notification: Notification,
  options: { version?: string | undefined } = {},
): SlackMessage {
  const { incident, kind } = notification;
  const resolved = kind === "resolve";
  const emoji = resolved ? ":white_check_mark:" : SEVERITY_EMOJI[incident.severity];
  const status =
    kind === "acknowledge" ? "acknowledged" : kind === "resolve" ? "resolved" : "triggered";

  const blocks: Block[] = [
    {
      type: "header",
      text: {
        type: "plain_text",
        text: clip(`${emoji} ${wellFormed(incident.title)}`, LIMITS.header),
        emoji: true,
      },
    },
    {
      type: "section",
      text: { type: "mrkdwn", text: summaryLine(notification) },
      fields: [
        field("Severity", incident.severity.toUpperCase()),
        field("Team", escapeMrkdwn(incident.team)),
        field("Status", status),
        field("Started", incident.startedAt),
        ...valuesField(incident),
        ...labelFields(incident.labels),
      ],
    },
    ...imageBlock(incident),
  ];
  const people = notification.recipients.map(mention);
  if (people.length > 0 && (kind === "trigger" || kind === "escalate")) {
    const who = notification.level > 0 ? `Paged (level ${notification.level})` : "Paged";
    blocks.push({
      type: "section",
      text: { type: "mrkdwn", text: clip(`*${who}:* ${people.join(" ")}`, PART.paged, "mrkdwn") },
    });
  }
  const runbook = runbookText(notification);
  if (runbook) blocks.push({ type: "section", text: { type: "mrkdwn", text: runbook } });
  const state: Block = {
    type: "context",
    elements: [{ type: "mrkdwn", text: clip(stateLine(notification), PART.stateLine, "mrkdwn") }],
  };
  const buttons = buttonsFor(kind, incident.id);
  const actions: Block[] =
    buttons.length > 0
      ? [
          {
            type: "actions",
            block_id: options.version ? `${ACTIONS_BLOCK_ID}-${options.version}` : ACTIONS_BLOCK_ID,
            elements: buttons,
          },
        ]
      : [];
  // The links get what the rest leaves of the budget, each its own context element.
  const links = linkElements(
    notification,
    MESSAGE_TEXT_BUDGET - textLength([...blocks, state, ...actions]),
  );
  if (links.length > 0) blocks.push({ type: "context", elements: links });
  blocks.push(state, ...actions);

  const tag =
    kind === "acknowledge" || kind === "resolve"
      ? status.toUpperCase()
      : incident.test
        ? "TEST"
        : incident.severity.toUpperCase();
  const paged = kind === "trigger" || kind === "escalate" ? people : [];
  return {
    text: clip(
      [
        `[${tag}]`,
        clip(escapeMrkdwn(incident.title), PART.title, "mrkdwn"),
        `(${clip(escapeMrkdwn(incident.team), PART.team, "mrkdwn")})`,
        ...paged,
      ].join(" "),
      LIMITS.textObject,
      "mrkdwn",
    ),
    blocks,
  };
}

/**
 * What to send when Slack refuses a message's blocks anyway: plain text that still names the
 * incident and mentions the people paged, so that the page is not lost with the blocks.
 */
export function plainIncidentMessage(notification: Notification): string {
  const { text } = incidentMessage(notification);
  const runbook = notification.runbook ?? notification.incident.runbook;
  return clip(
    [
      text,
      description(notification.incident),
      runbook && runbook.url.length <= PART.runbook
        ? `Runbook: ${escapeMrkdwn(runbook.url)}`
        : null,
      `Incident ${escapeMrkdwn(notification.incident.id)} (sent as plain text: Slack refused the formatted message, so it has no buttons)`,
    ]
      .filter((line): line is string => Boolean(line))
      .join("\n"),
    LIMITS.textObject,
    "mrkdwn",
  );
}

/** The escalation reply as plain text, for when Slack refuses its blocks. */
export function plainEscalationReply(notification: Notification): string {
  const { text } = escalationReply(notification);
  const runbook = notification.runbook;
  const line =
    runbook && runbook.url.length <= PART.runbook
      ? `\nStart with the runbook: ${escapeMrkdwn(runbook.url)}`
      : "";
  return clip(`${text}${line}`, LIMITS.textObject, "mrkdwn");
}

/** The reply in the incident's thread that pages a new level's people. */
export function escalationReply(notification: Notification): SlackMessage {
  const people = notification.recipients.map(mention);
  const who =
    people.length > 0
      ? `${people.join(" ")}, please take a look.`
      : "no one to page at this level.";
  const text = clip(
    `:arrow_double_up: Escalated to level ${notification.level}: ${who}`,
    LIMITS.textObject,
    "mrkdwn",
  );
  const blocks: Block[] = [{ type: "section", text: { type: "mrkdwn", text } }];
  const runbook = notification.runbook;
  if (runbook) {
    const lead = "Start with the runbook: ";
    blocks.push({
      type: "context",
      elements: [
        {
          type: "mrkdwn",
          text: `${lead}${fittedLink(runbook.url, clip(runbook.name, 200), PART.runbook - lead.length)}`,
        },
      ],
    });
  }
  return { text, blocks };
}

function field(name: string, value: string): Mrkdwn {
  return { type: "mrkdwn", text: clip(`*${name}*\n${value}`, PART.field, "mrkdwn") };
}

function valuesField(incident: Notification["incident"]): Mrkdwn[] {
  const values = valuesText(incident);
  return values ? [field("Values", `\`${escapeMrkdwn(values.replace(/`/g, "'"))}\``)] : [];
}

/**
 * The sender's picture of the panel (Grafana's imageURL), shown when Slack can fetch it
 * over https; Slack refuses the whole message when it cannot (`invalid_blocks`,
 * "downloading image failed"), so the notifier then sends it again without this block.
 */
function imageBlock(incident: Notification["incident"]): Block[] {
  const url = incident.imageUrl;
  if (!url || !/^https:\/\//i.test(url) || url.length > LIMITS.url) return [];
  const alt = clip(`Panel image: ${wellFormed(incident.title)}`, PART.title);
  return [{ type: "image", image_url: url, alt_text: alt }];
}

/** The message without its image block: what Slack gets when it could not fetch the image. */
export function withoutImage(message: SlackMessage): SlackMessage | null {
  const blocks = message.blocks.filter((block) => block.type !== "image");
  return blocks.length < message.blocks.length ? { ...message, blocks } : null;
}

function labelFields(labels: Readonly<Record<string, string>>): Mrkdwn[] {
  // The value is cut inside its backticks, so that the code span stays closed.
  return KEY_LABELS.filter((name) => labels[name]).map((name) =>
    field(
      name,
      `\`${clip(escapeMrkdwn(labels[name]!.replace(/`/g, "'")), PART.field - name.length - 6, "mrkdwn")}\``,
    ),
  );
}

/** The alert's description (or summary), escaped and cut to fit; null when it has none. */
function description(incident: Notification["incident"]): string | null {
  const text = incident.annotations.description || incident.annotations.summary;
  return text ? clip(escapeMrkdwn(text), PART.summary, "mrkdwn") : null;
}

function summaryLine(notification: Notification): string {
  const { incident } = notification;
  return (
    description(incident) ?? `*${clip(escapeMrkdwn(incident.title), PART.summary - 2, "mrkdwn")}*`
  );
}

function runbookText(notification: Notification): string | null {
  const known = notification.runbook ?? notification.incident.runbook;
  if (!known) return null;
  const lead = "*Runbook:* ";
  const title = `${lead}${fittedLink(known.url, clip(known.name, 200), PART.runbook - lead.length)}`;
  const runbook = notification.runbook;
  if (!runbook) return title;
  const steps = runbook.diagnosis
    .slice(0, DIAGNOSIS_STEPS)
    .map((step, i) => `${i + 1}. ${clip(escapeMrkdwn(step), 600, "mrkdwn")}`);
  const rest = clip(
    [escapeMrkdwn(runbook.summary), ...steps].join("\n"),
    PART.runbook - title.length - 1,
    "mrkdwn",
  );
  return rest.length > 1 ? `${title}\n${rest}` : title;
}

/**
 * The source, dashboard, silence and panel image links, one context element each, within `budget`
 * characters in all: each link gets what the ones before it left (at most a text object).
 */
function linkElements(notification: Notification, budget: number): Mrkdwn[] {
  const { incident } = notification;
  // A person's own page carries their signed links (a browser acknowledges as them).
  const own = notification.kind === "trigger" || notification.kind === "escalate";
  const wanted: Array<[string | null, string]> = [
    [own ? (notification.links?.acknowledge ?? null) : null, "Acknowledge in a browser"],
    [own ? (notification.links?.resolve ?? null) : null, "Resolve in a browser"],
    [incident.generatorUrl, "Alert source"],
    [incident.dashboardUrl, "Dashboard"],
    [incident.silenceUrl, "Silence"],
    [incident.imageUrl ?? null, "Panel image"],
  ];
  let left = budget;
  const elements: Mrkdwn[] = [];
  for (const [url, label] of wanted) {
    if (!url || left < 40) continue;
    const text = fittedLink(url, label, Math.min(left, LIMITS.textObject));
    left -= text.length;
    elements.push({ type: "mrkdwn", text });
  }
  return elements;
}

function stateLine(notification: Notification): string {
  const { incident } = notification;
  switch (notification.kind) {
    case "trigger":
      return incident.test
        ? `:test_tube: A test from Grafana, incident \`${escapeMrkdwn(incident.id)}\`: nobody is paged, and it resolves by itself`
        : `Incident \`${escapeMrkdwn(incident.id)}\` triggered`;
    case "escalate":
      return `:arrow_double_up: Escalated to level ${notification.level}`;
    case "acknowledge":
      return `:eyes: Acknowledged by ${actorText(notification.actor ?? incident.acknowledgedBy ?? undefined)}`;
    case "resolve":
      return `:white_check_mark: Resolved by ${actorText(notification.actor ?? incident.resolvedBy ?? undefined)}`;
  }
}

/** "30m" → "Snooze 30 min", "1h" → "Snooze 1 h". */
function snoozeLabel(length: (typeof SNOOZE_CHOICES)[number]): string {
  const unit = length.slice(-1);
  return `Snooze ${length.slice(0, -1)} ${unit === "m" ? "min" : unit}`;
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
  // The button snoozes for the first choice (its value is the id alone), the menu for the rest.
  const [shortest, ...longer] = SNOOZE_CHOICES;
  return [
    button("acknowledge", "Acknowledge", "primary"),
    button("resolve", "Resolve"),
    button("snooze", snoozeLabel(shortest)),
    {
      type: "overflow",
      action_id: "snooze_longer",
      options: longer.map((length) => ({
        text: { type: "plain_text", text: snoozeLabel(length), emoji: true },
        value: `${incidentId}|${length}`,
      })),
    },
  ];
}
