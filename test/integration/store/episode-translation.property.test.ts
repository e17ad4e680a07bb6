/**
 * The DynamoDB expressions of the fingerprint item are a translation of the episode rules
 * (core/episode.ts): for random episodes and random changes, the item DynamoDB (dynalite)
 * leaves and what the write answers equal what the core function gives. The rule is written
 * once; its expression is checked, not trusted.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  fingerprintKey,
  fromEpisode,
  readEpisode,
  writeConfirm,
  writeDetach,
  writeFiring,
  writeFollowStatus,
} from "../../../functions/adapters/dynamodb/fingerprint-item.js";
import { TableClient } from "../../../functions/adapters/dynamodb/table-client.js";
import {
  confirmEpisode,
  type DetachRule,
  detachEpisode,
  type Episode,
  type Firing,
  fireEpisode,
  followStatus,
  type OpenEpisode,
} from "../../../functions/core/episode.js";
import { INCIDENT_STATUSES, type IncidentStatus } from "../../../functions/core/incident.js";
import type { EmbeddedDynamo } from "../../../functions/local/embedded-dynamodb.js";
import { clientFor, freshTable, startTestDynamo } from "../../support/dynamo.js";

/** Per kind of change. */
const RUNS = 100;
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

// Few values, so that equal and ordered times, and the same and other ids, all come up.
const time = fc.constantFrom(...[0, 1, 2].map((m) => `2026-11-30T09:0${m}:00.000Z`));
const id = fc.constantFrom("inc-1", "inc-2", "inc-3");
const status = fc.constantFrom<IncidentStatus>(...INCIDENT_STATUSES);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
/** Absent half the time: whether an episode is open, or was resolved, decides most rules. */
const either = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });

const openEpisode: fc.Arbitrary<OpenEpisode> = fc.record({
  incidentId: id,
  confirmed: fc.boolean(),
  status,
  // Absent on episodes stored before these existed.
  openedAt: maybe(time),
  startedAt: maybe(time),
  occurrences: maybe(fc.integer({ min: 1, max: 5 })),
  lastSeenAt: maybe(time),
  truncatedAlerts: maybe(fc.integer({ min: 0, max: 3 })),
});
const episode: fc.Arbitrary<Episode | null> = fc.option(
  fc.record({
    open: either(openEpisode),
    last: either(fc.record({ incidentId: id, startedAt: maybe(time) })),
  }),
  { nil: null },
);
const firing: fc.Arbitrary<Firing> = fc.record({
  incidentId: fc.constantFrom("inc-1", "inc-new"),
  status: fc.constant<IncidentStatus>("triggered"),
  at: time,
  startedAt: time,
  truncatedAlerts: maybe(fc.integer({ min: 0, max: 3 })),
});
const rule: fc.Arbitrary<DetachRule> = fc.oneof(
  fc.constant<DetachRule>({ rule: "unlessLaterEpisode" }),
  id.map((incidentId): DetachRule => ({ rule: "whileAttached", incidentId })),
);

type Change =
  | { kind: "fire"; firing: Firing }
  | { kind: "confirm"; incidentId: string }
  | { kind: "detach"; rule: DetachRule; startedAt: string }
  | { kind: "follow"; incidentId: string; status: IncidentStatus };
const changes: Record<Change["kind"], fc.Arbitrary<Change>> = {
  fire: firing.map((f): Change => ({ kind: "fire", firing: f })),
  confirm: id.map((incidentId): Change => ({ kind: "confirm", incidentId })),
  detach: fc.record({ rule, startedAt: time }).map((d): Change => ({ kind: "detach", ...d })),
  follow: fc.record({ incidentId: id, status }).map((f): Change => ({ kind: "follow", ...f })),
};

/** The core's answer and episode after the change; `episode` as before when nothing is written. */
function core(before: Episode | null, c: Change): { answer: unknown; episode: Episode | null } {
  switch (c.kind) {
    case "fire": {
      const after = fireEpisode(before, c.firing);
      return { answer: after, episode: after ?? before };
    }
    case "confirm":
      return { answer: undefined, episode: confirmEpisode(before, c.incidentId) ?? before };
    case "detach": {
      const result = detachEpisode(before, c.rule, c.startedAt);
      return { answer: result?.detached ?? null, episode: result?.episode ?? before };
    }
    case "follow":
      return { answer: undefined, episode: followStatus(before, c.incidentId, c.status) ?? before };
  }
}

/** The same change as the DynamoDB store writes it. */
function dynamoWrite(fingerprint: string, c: Change): Promise<unknown> {
  switch (c.kind) {
    case "fire":
      return writeFiring(table, fingerprint, c.firing, RETENTION);
    case "confirm":
      return writeConfirm(table, fingerprint, c.incidentId);
    case "detach":
      return writeDetach(table, fingerprint, c.rule, c.startedAt);
    case "follow":
      return writeFollowStatus(table, fingerprint, c.incidentId, c.status);
  }
}

let fingerprints = 0;

it.each(Object.keys(changes) as Array<Change["kind"]>)(
  `%s: the fingerprint item's write gives what the episode rule gives (${RUNS} random items)`,
  async (kind) => {
    await fc.assert(
      fc.asyncProperty(episode, changes[kind], async (before, c) => {
        // Prepare: the episode as stored, under a fingerprint of its own.
        const fingerprint = `fp-${++fingerprints}`;
        if (before) {
          await table.putIf({ Item: { ...fingerprintKey(fingerprint), ...fromEpisode(before) } });
        }
        // Act
        const answer = await dynamoWrite(fingerprint, c);
        // Assess
        const expected = core(before, c);
        expect(answer).toEqual(expected.answer);
        expect(await readEpisode(table, fingerprint)).toEqual(expected.episode);
      }),
      { numRuns: RUNS },
    );
  },
);

it("writes no fingerprint item for a change that does not apply to none", async () => {
  // The rules say null for every change but a firing on no item: so must DynamoDB.
  for (const c of [
    { kind: "confirm", incidentId: "inc-1" },
    { kind: "detach", rule: { rule: "unlessLaterEpisode" }, startedAt: "2026-11-30T09:00:00.000Z" },
    {
      kind: "detach",
      rule: { rule: "whileAttached", incidentId: "inc-1" },
      startedAt: "2026-11-30T09:00:00.000Z",
    },
    { kind: "follow", incidentId: "inc-1", status: "acknowledged" },
  ] satisfies Change[]) {
    const fingerprint = `fp-${++fingerprints}`;
    await dynamoWrite(fingerprint, c);
    expect(await readEpisode(table, fingerprint)).toBeNull();
  }
});
