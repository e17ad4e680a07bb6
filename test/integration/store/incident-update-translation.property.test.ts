/**
 * The DynamoDB UpdateItem of an IncidentUpdate (adapters/dynamodb/incident-update.ts) is a
 * translation of `applyUpdate` (core/incident-update.ts): for random incidents and random
 * updates, the item DynamoDB (dynalite) leaves and whether it wrote equal what the core
 * function gives. The rule is written once; its expression is checked, not trusted.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  type IncidentItem,
  incidentKey,
  OWED_PREFIX,
  toIncidentItem,
  toStoredIncident,
} from "../../../functions/adapters/dynamodb/incident-item.js";
import { incidentUpdate } from "../../../functions/adapters/dynamodb/incident-update.js";
import { TableClient } from "../../../functions/adapters/dynamodb/table-client.js";
import {
  INCIDENT_STATUSES,
  type IncidentStatus,
  type OwedState,
  type TimelineEvent,
} from "../../../functions/core/incident.js";
import {
  applyUpdate,
  type Guard,
  type IncidentFields,
  type IncidentUpdate,
  type StoredIncident,
} from "../../../functions/core/incident-update.js";
import type { OwedDelivery, SlackMessageRef } from "../../../functions/core/notification.js";
import type { EmbeddedDynamo } from "../../../functions/local/embedded-dynamodb.js";
import { clientFor, freshTable, startTestDynamo } from "../../support/dynamo.js";
import { at, candidate } from "../../support/incidents.js";

const RUNS = 250;
const RETENTION = 86_400;

let dynamo: EmbeddedDynamo;
let client: DynamoDBClient;
let table: TableClient;
beforeAll(async () => {
  dynamo = await startTestDynamo();
  client = clientFor(dynamo.endpoint);
  table = new TableClient(client, await freshTable(client));
});
afterAll(async () => {
  client.destroy();
  await dynamo.close();
});

// Few values, so that equal and ordered times, and the same and other keys, all come up.
const time = fc.constantFrom(at(0), at(1), at(2));
const status = fc.constantFrom<IncidentStatus>(...INCIDENT_STATUSES);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });
const step = fc.integer({ min: 0, max: 3 });
const owedState = fc.constantFrom<OwedState>("acknowledged", "resolved");
const OWED_KEYS = ["s1d0", "s1d1", "s2d0"];
const CHANNELS = ["C1", "C2", "constructor"];

const owedDelivery = (key: string): fc.Arbitrary<OwedDelivery> =>
  fc.record({
    key: fc.constant(key),
    step: step,
    channelId: fc.constantFrom("pagerduty", "slack-incidents"),
    kind: fc.constantFrom("trigger" as const, "escalate" as const),
    level: step,
    recipients: fc.constant([{ userId: "erin", name: "Erin Walsh" }]),
    claimedAt: time,
    attempts: fc.integer({ min: 0, max: 4 }),
    nextAttemptAt: maybe(time),
  });
const owedSome = fc
  .subarray(OWED_KEYS)
  .chain((keys) => fc.tuple(...keys.map(owedDelivery)) as fc.Arbitrary<OwedDelivery[]>);
const ref: fc.Arbitrary<SlackMessageRef> = fc.record({
  channel: fc.constantFrom(...CHANNELS),
  ts: fc.constantFrom("1.1", "2.2"),
});

let ids = 0;
const incident: fc.Arbitrary<StoredIncident | null> = fc.option(
  fc
    .record({
      status,
      snoozedUntil: fc.option(time, { nil: null }),
      claimedStep: maybe(step),
      owed: owedSome,
      owedState: maybe(owedState),
      // Not `constructor` here: the SDK's marshaller refuses a map with that key in a PutItem
      // (the store writes slackMessages only as paths, which take any name).
      slack: fc.dictionary(fc.constantFrom("C1", "C2"), ref, { maxKeys: 2 }),
    })
    .map(({ status, snoozedUntil, claimedStep, owed, owedState, slack }) => {
      const stored: StoredIncident = {
        ...candidate(`fp-update-${++ids}`, at(0)),
        status,
        snoozedUntil,
        slackMessages: slack,
        ...(owed.length > 0 ? { owedDeliveries: owed } : {}),
        ...(owedState ? { owedState } : {}),
      };
      return claimedStep === undefined ? stored : { ...stored, claimedStep };
    }),
  { nil: null, freq: 8 },
);

const guard: fc.Arbitrary<Guard> = fc.record(
  {
    exists: fc.constant(true as const),
    status: fc.subarray([...INCIDENT_STATUSES], { minLength: 1 }),
    noSnoozeAt: time,
    snoozeOverAt: time,
    stepUnclaimed: step,
  },
  { requiredKeys: [] },
);
const fields: fc.Arbitrary<Partial<IncidentFields>> = fc.record(
  {
    status,
    acknowledgedAt: fc.option(time, { nil: null }),
    acknowledgedBy: fc.option(fc.constantFrom("erin", "dmitri"), { nil: null }),
    resolvedAt: fc.option(time, { nil: null }),
    resolvedBy: fc.option(fc.constant("alertmanager"), { nil: null }),
    snoozedUntil: fc.option(time, { nil: null }),
    escalationBaseAt: fc.option(time, { nil: null }),
    escalationStep: step,
    level: step,
    occurrences: fc.integer({ min: 1, max: 9 }),
    lastSeenAt: time,
    truncatedAlerts: maybe(fc.integer({ min: 0, max: 3 })),
  },
  { requiredKeys: [] },
);
const event: fc.Arbitrary<TimelineEvent> = fc.record({
  at: time,
  type: fc.constantFrom("notified" as const, "acknowledged" as const, "escalated" as const),
  level: step,
});
const update: fc.Arbitrary<IncidentUpdate> = fc.record(
  {
    guard,
    set: fields,
    append: fc.array(event, { maxLength: 2 }),
    claimStep: step,
    owe: owedSome,
    settle: fc.subarray([...OWED_KEYS, "s9d9"]),
    owedState: fc.option(owedState, { nil: null }),
    slackMessages: fc.array(fc.record({ channelId: fc.constantFrom(...CHANNELS), ref }), {
      maxLength: 3,
    }),
  },
  { requiredKeys: ["guard"] },
);

/** The item the DynamoDB store holds for `stored`: owed deliveries each an attribute. */
function itemOf(stored: StoredIncident): IncidentItem {
  const { owedDeliveries = [], claimedStep, ...incident } = stored;
  return {
    ...toIncidentItem(incident, RETENTION),
    ...(claimedStep === undefined ? {} : { claimedStep }),
    ...Object.fromEntries(owedDeliveries.map((entry) => [`${OWED_PREFIX}${entry.key}`, entry])),
  };
}

it(`an incident's UpdateItem gives what applyUpdate gives (${RUNS} random incidents and updates)`, async () => {
  await fc.assert(
    fc.asyncProperty(incident, update, async (before, change) => {
      // Prepare
      const id = `inc-update-${++ids}`;
      if (before) await table.putIf({ Item: itemOf({ ...before, id }) });
      // Act
      const written = await table.updateIf({ Key: incidentKey(id), ...incidentUpdate(change) });
      // Assess: written or not as the guard says, the item as applyUpdate leaves it.
      const expected = applyUpdate(before && { ...before, id }, change);
      const after = (await table.get(incidentKey(id))) as IncidentItem | undefined;
      expect(written !== undefined).toBe(expected.applied);
      expect(after ? toStoredIncident(after) : null).toEqual(expected.incident);
      if (written) {
        expect(toStoredIncident(written.Attributes as IncidentItem)).toEqual(expected.incident);
        expect(after!.statusKey).toBe(`STATUS#${after!.status}`);
      }
    }),
    { numRuns: RUNS },
  );
});
