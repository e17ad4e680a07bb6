import type { IncidentUpdate } from "../../core/incident-update.js";
import { OWED_PREFIX, PAGERDUTY_PREFIX } from "./incident-item.js";

/**
 * `applyUpdate` (core/incident-update.ts) as one conditional UpdateItem on an incident item:
 * the guard becomes the ConditionExpression (the item must exist, whatever the guard), the
 * changes the UpdateExpression, and the status index key follows the status. `otherwise` is
 * not translated: the store base writes it as a request of its own. Returns the whole item
 * as written (ALL_NEW).
 */
export function incidentUpdate(update: IncidentUpdate) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const name = (attribute: string, alias: string) => {
    names[alias] = attribute;
    return alias;
  };
  const value = (alias: string, given: unknown) => {
    values[alias] = given;
    return alias;
  };

  const conditions = ["attribute_exists(pk)"];
  const { guard } = update;
  if (guard.status) {
    const statuses = guard.status.map((status, i) => value(`:from${i}`, status));
    conditions.push(`${name("status", "#status")} IN (${statuses.join(", ")})`);
  }
  if (guard.noSnoozeAt !== undefined) {
    // Unset, null or not after: a missing or NULL attribute compares false.
    conditions.push(
      `NOT (${name("snoozedUntil", "#snoozedUntil")} > ${value(":noSnoozeAt", guard.noSnoozeAt)})`,
    );
  }
  if (guard.snoozeOverAt !== undefined) {
    // Only a string compares: a snooze unset (NULL) is not over, it never began.
    conditions.push(
      `${name("snoozedUntil", "#snoozedUntil")} <= ${value(":snoozeOverAt", guard.snoozeOverAt)}`,
    );
  }
  if (guard.stepUnclaimed !== undefined) {
    const step = value(":unclaimed", guard.stepUnclaimed);
    const claimed = name("claimedStep", "#claimedStep");
    conditions.push(`(attribute_not_exists(${claimed}) OR ${claimed} < ${step})`);
  }

  const sets: string[] = [];
  const removes: string[] = [];
  Object.entries(update.set ?? {})
    .filter(([, given]) => given !== undefined)
    .forEach(([field, given], i) => {
      sets.push(`${name(field, `#f${i}`)} = ${value(`:f${i}`, given)}`);
      if (field === "status")
        sets.push(`${name("statusKey", "#statusKey")} = ${value(":statusKey", `STATUS#${given}`)}`);
    });
  if (update.append) {
    const timeline = name("timeline", "#timeline");
    sets.push(`${timeline} = list_append(${timeline}, ${value(":append", update.append)})`);
  }
  if (update.claimStep !== undefined)
    sets.push(`${name("claimedStep", "#claimedStep")} = ${value(":claimStep", update.claimStep)}`);
  // Each owed delivery is an attribute of its own: written ones replace, settled ones go.
  const owed = update.owe ?? [];
  owed.forEach((entry, i) => {
    sets.push(`${name(`${OWED_PREFIX}${entry.key}`, `#o${i}`)} = ${value(`:o${i}`, entry)}`);
  });
  const written = new Set(owed.map((entry) => entry.key));
  (update.settle ?? [])
    .filter((key) => !written.has(key))
    .forEach((key, i) => {
      removes.push(name(`${OWED_PREFIX}${key}`, `#s${i}`));
    });
  // A key of the sparse owed-state index: removed, never NULL, when nothing is owed.
  if (update.owedState === null) removes.push(name("owedState", "#owedState"));
  else if (update.owedState !== undefined)
    sets.push(`${name("owedState", "#owedState")} = ${value(":owedState", update.owedState)}`);
  // One per channel, the first (as applyUpdate keeps it): two writes of one path would be refused.
  const messages = (update.slackMessages ?? []).filter(
    (message, i, all) => all.findIndex((other) => other.channelId === message.channelId) === i,
  );
  messages.forEach(({ channelId, ref }, i) => {
    const path = `${name("slackMessages", "#slack")}.${name(channelId, `#c${i}`)}`;
    sets.push(`${path} = if_not_exists(${path}, ${value(`:r${i}`, ref)})`);
  });
  // PagerDuty incidents (user mode) in attributes of their own, like owed deliveries: items
  // written before have no map to set a path in. The first kept, as applyUpdate keeps it.
  const pagerDuty = (update.pagerDutyIncidents ?? []).filter(
    (ref, i, all) => all.findIndex((other) => other.channelId === ref.channelId) === i,
  );
  pagerDuty.forEach(({ channelId, id }, i) => {
    const path = name(`${PAGERDUTY_PREFIX}${channelId}`, `#p${i}`);
    sets.push(`${path} = if_not_exists(${path}, ${value(`:p${i}`, id)})`);
  });
  // An update that changes nothing still answers whether its guard holds.
  if (sets.length === 0 && removes.length === 0) sets.push(`${name("id", "#id")} = #id`);

  return {
    UpdateExpression: [
      sets.length > 0 ? `SET ${sets.join(", ")}` : "",
      removes.length > 0 ? `REMOVE ${removes.join(", ")}` : "",
    ]
      .filter(Boolean)
      .join(" "),
    ConditionExpression: conditions.join(" AND "),
    ExpressionAttributeNames: names,
    ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
    ReturnValues: "ALL_NEW" as const,
  };
}
