import type * as z from "zod/mini";
import { HttpError } from "../../adapters/http/http-errors.js";
import type { IncidentAction } from "../../app/incident-actions.js";
import { parseDuration } from "../../core/duration.js";
import { SNOOZE_CHOICES } from "../../core/incident.js";
import { isIncidentId, MAX_INCIDENT_ID_LENGTH } from "../../core/incident-id.js";
import type { payloadSchema } from "./interactions.js";

/**
 * Translates a Slack action into ours, at the edge: `acknowledge`, `resolve`, `snooze`
 * with `value` = incident id (snooze: 30 min, or `<id>|30m`), or the `snooze_longer` menu's
 * `<id>|1h` and `<id>|4h`; anything else, an incident id of the wrong shape (a 2 KB value, a
 * path) included, is a 400 before anything is read.
 */
export function toAction(action: z.infer<typeof payloadSchema>["actions"][number]): {
  incidentId: string;
  action: IncidentAction;
} {
  const raw = action.value ?? action.selected_option?.value ?? "";
  const [incidentId, length, ...rest] = raw.split("|");
  if (!incidentId) throw new HttpError(400, "invalid_action", "the action carries no incident id");
  const refuse = (why: string): never => {
    throw new HttpError(400, "invalid_action", `actions.0.value: ${why}`);
  };
  if (!isIncidentId(incidentId))
    refuse(
      `is not an incident id (1 to ${MAX_INCIDENT_ID_LENGTH} letters, digits, '.', '_', ':' or '-')`,
    );
  if (rest.length > 0) refuse("is `<incident id>` or `<incident id>|<snooze length>`");
  switch (action.action_id) {
    case "acknowledge":
    case "resolve":
      if (length !== undefined) refuse(`${action.action_id} takes the incident id alone`);
      return { incidentId, action: { type: action.action_id } };
    case "snooze":
    case "snooze_longer": {
      const seconds = parseDuration(length ?? SNOOZE_CHOICES[0]);
      if (
        !seconds ||
        !(SNOOZE_CHOICES as readonly string[]).includes(length ?? SNOOZE_CHOICES[0])
      ) {
        throw new HttpError(400, "invalid_action", `snooze for ${SNOOZE_CHOICES.join(", ")} only`);
      }
      return { incidentId, action: { type: "snooze", seconds } };
    }
    default:
      throw new HttpError(
        400,
        "invalid_action",
        `unknown action_id ${JSON.stringify(action.action_id)}`,
      );
  }
}
