import { describe, expect, it } from "vitest";
import { parseDuration } from "../../functions/core/duration.js";
import { SNOOZE_CHOICES } from "../../functions/core/incident.js";
import { toAction } from "../../functions/integrations/slack/actions.js";
import { type Block, incidentMessage } from "../../functions/integrations/slack/message.js";
import { notification } from "../support/notifications.js";

interface Control {
  action_id: string;
  value: string;
  label: string;
}

/** Every snooze control of a message: its action, the value Slack sends back, its label. */
function snoozeControls(blocks: Block[]): Control[] {
  const elements = blocks.flatMap((b) => (b.type === "actions" ? b.elements : []));
  return elements.flatMap((e): Control[] => {
    if (e.type === "button")
      return e.action_id === "snooze"
        ? [{ action_id: e.action_id, value: e.value, label: e.text.text }]
        : [];
    return e.options.map((o) => ({ action_id: e.action_id, value: o.value, label: o.text.text }));
  });
}

describe("Slack's snooze menu is built from SNOOZE_CHOICES", () => {
  const message = incidentMessage(notification("slack-incidents"));
  const id = notification("slack-incidents").incident.id;
  const controls = snoozeControls(message.blocks);

  it("offers each choice once, the shortest as the button and the rest in the menu, labelled as today", () => {
    expect(controls).toEqual([
      { action_id: "snooze", value: id, label: "Snooze 30 min" },
      { action_id: "snooze_longer", value: `${id}|1h`, label: "Snooze 1 h" },
      { action_id: "snooze_longer", value: `${id}|4h`, label: "Snooze 4 h" },
    ]);
    expect(controls).toHaveLength(SNOOZE_CHOICES.length);
  });

  it("sends back, for every control, the snooze of its choice", () => {
    const seconds = controls.map(
      (c) => toAction({ action_id: c.action_id, value: c.value }).action,
    );
    expect(seconds).toEqual(
      SNOOZE_CHOICES.map((choice) => ({ type: "snooze", seconds: parseDuration(choice) })),
    );
  });
});
