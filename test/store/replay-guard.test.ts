import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DynamoIncidentStore } from "../../functions/adapters/dynamodb/incident-store.js";
import { DynamoReplayGuard } from "../../functions/adapters/dynamodb/replay-guard.js";
import { StoreUnavailableError } from "../../functions/core/errors.js";
import type { EmbeddedDynamo } from "../../functions/local/embedded-dynamodb.js";
import { clientFor, freshTable, injectFaults, startTestDynamo } from "../support/dynamo.js";
import { candidate } from "../support/incidents.js";

const at = (seconds: number) => new Date(Date.UTC(2026, 10, 30, 9, 30, seconds)).toISOString();
const window = (now: number) => ({ now: at(now), until: at(300) });

let dynamo: EmbeddedDynamo;
let table: string;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  table = await freshTable(clientFor(dynamo.endpoint));
});

describe("DynamoReplayGuard (dynalite)", () => {
  it("answers true once per key within its window, whichever instance asks", async () => {
    // Two guards on one table: two Lambda instances.
    const one = new DynamoReplayGuard(clientFor(dynamo.endpoint), table);
    const two = new DynamoReplayGuard(clientFor(dynamo.endpoint), table);

    expect(await one.firstSeen("v0=aa", window(0))).toBe(true);
    expect(await two.firstSeen("v0=aa", window(10))).toBe(false);
    expect(await one.firstSeen("v0=aa", window(299))).toBe(false);
    expect(await two.firstSeen("v0=bb", window(10))).toBe(true);
  });

  it("gives one true to many concurrent calls with one key", async () => {
    const guards = Array.from(
      { length: 12 },
      () => new DynamoReplayGuard(clientFor(dynamo.endpoint), table),
    );

    const answers = await Promise.all(guards.map((g) => g.firstSeen("v0=cc", window(0))));

    expect(answers.filter(Boolean)).toHaveLength(1);
  });

  it("lets a key be used again once its window is over, before TTL has deleted it", async () => {
    const guard = new DynamoReplayGuard(clientFor(dynamo.endpoint), table);
    await guard.firstSeen("v0=dd", window(0));

    expect(await guard.firstSeen("v0=dd", { now: at(301), until: at(601) })).toBe(true);
    expect(await guard.firstSeen("v0=dd", { now: at(302), until: at(602) })).toBe(false);
  });

  it("says whether a key was seen in a window not over, remembering nothing itself", async () => {
    const guard = new DynamoReplayGuard(clientFor(dynamo.endpoint), table);

    expect(await guard.seen("v0=gg", at(0))).toBe(false);
    expect(await guard.firstSeen("v0=gg", window(0))).toBe(true);
    expect(await guard.seen("v0=gg", at(300))).toBe(true);
    expect(await guard.seen("v0=gg", at(301))).toBe(false);
    expect(await guard.seen("v0=hh", at(10))).toBe(false);
    expect(await guard.firstSeen("v0=hh", window(10))).toBe(true);
  });

  it("leaves the incident lists alone", async () => {
    const client = clientFor(dynamo.endpoint);
    const store = new DynamoIncidentStore(client, table);
    await store.recordFiring(candidate("fp-replay", at(0)));
    await new DynamoReplayGuard(client, table).firstSeen("v0=ee", window(0));

    const page = await store.list({ limit: 10 });

    expect(page.incidents.map((i) => i.fingerprint)).toEqual(["fp-replay"]);
  });

  it("throws StoreUnavailableError when DynamoDB fails, remembering nothing", async () => {
    const client = clientFor(dynamo.endpoint);
    const faults = injectFaults(client);
    const guard = new DynamoReplayGuard(client, table);
    faults.failNext("PutItemCommand");

    await expect(guard.firstSeen("v0=ff", window(0))).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(await guard.firstSeen("v0=ff", window(1))).toBe(true);
  });
});
