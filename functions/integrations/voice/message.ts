import type { Notification } from "../../core/notification.js";

/** End User Messaging's limit for an SSML body, tags included (TEXT: 3,000). */
export const SSML_LIMIT = 6000;
/** Long enough to say what is wrong; a call that reads a paragraph loses the listener. */
const TITLE_LIMIT = 300;

const SEVERITY_WORD: Record<string, string> = {
  critical: "Critical",
  high: "High severity",
  warning: "Warning",
  info: "Information",
};

export interface VoiceScriptOptions {
  /** Whether the person got a text or a Slack message with an acknowledgement link. */
  links?: boolean | undefined;
  /** Whether a reply of `1` to the text acknowledges (two-way SMS). */
  replies?: boolean | undefined;
}

/**
 * What a call says, as SSML, twice (people pick up mid-sentence): severity, title, team, then
 * how to acknowledge. A call cannot take a keypress (SendVoiceMessage is one-way text to
 * speech), so it points at the link we sent or the reply code. Every text from the incident is
 * XML-escaped: a title with `&` or `<` would otherwise make the SSML invalid and the call fail.
 * https://docs.aws.amazon.com/sms-voice/latest/APIReference/API_SendVoiceMessage.html
 */
export function voiceScript(notification: Notification, options: VoiceScriptOptions = {}): string {
  const { incident, level, kind } = notification;
  const severity = incident.test ? "Test" : (SEVERITY_WORD[incident.severity] ?? incident.severity);
  const title = [...speakable(incident.title)];
  const shortTitle =
    title.length > TITLE_LIMIT
      ? `${title.slice(0, TITLE_LIMIT).join("")}, and more`
      : title.join("");
  const escalated =
    kind === "escalate" && level > 1
      ? ` Nobody has acknowledged it: this is escalation level ${level}.`
      : "";
  const how = options.links
    ? `To acknowledge, open the link in the text message or Slack message we sent you${options.replies ? ", or reply 1 to the text message" : ""}.`
    : options.replies
      ? "To acknowledge, reply 1 to the text message we sent you."
      : "To acknowledge, use the Slack message we sent you or the tocsin incident page.";
  const said =
    `This is tocsin. ${severity} incident for team ${speakable(incident.team)}: ${shortTitle}.` +
    `${escalated} ${how}`;
  const once = escapeXml(said);
  return `<speak>${once}<break time="1s"/>Again. ${once}</speak>`;
}

/** `&`, `<`, `>`, quotes as XML entities. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes
const CONTROL = /[\u0000-\u001f\u007f]+/g;

function speakable(text: string): string {
  return text.replace(CONTROL, " ").replace(/\s+/g, " ").trim();
}
