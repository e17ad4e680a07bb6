import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoIncidentStore } from "../../../functions/adapters/dynamodb/incident-store.js";
import { DynamoReplayGuard } from "../../../functions/adapters/dynamodb/replay-guard.js";
import type { EmbeddedDynamo } from "../../../functions/local/embedded-dynamodb.js";
import { clientFor, freshTable, startTestDynamo } from "../../support/dynamo.js";
import { slackClick } from "../../support/slack-click.js";
import {
  click,
  DMITRI,
  ERIN,
  handlerWith,
  NOW,
  openIncident,
  post,
  replayRecords,
  responder,
  runner,
  SECRET,
  slackStores,
  stored,
} from "../../support/slack-interactions.js";

/*
 * Slack interactions racing each other on DynamoDB (dynalite): the conditional writes of the
 * incident and of the replay guard's records decide who acts.
 */

let dynamo: EmbeddedDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

slackStores(async () => {
  const client = clientFor(dynamo.endpoint);
  const table = await freshTable(client);
  return {
    store: new DynamoIncidentStore(client, table),
    replayGuard: new DynamoReplayGuard(client, table),
    async replayRecords() {
      const { Items = [] } = await client.send(new ScanCommand({ TableName: table }));
      return Items.map((item) => item.pk?.S ?? "").filter((pk) => pk.startsWith("SEEN#"));
    },
  };
});

describe("POST /slack/interactions: snooze races", () => {
  it("lets one of two snoozes clicked at once win; the other says who won", async () => {
    // Prepare
    const incident = await openIncident();
    const handler = handlerWith();
    // Act: two people snooze in the same instant (two Lambda instances would race the same way).
    const [a, b] = await Promise.all([
      click(handler, { actionId: "snooze", value: incident.id, user: DMITRI }),
      click(handlerWith(), { actionId: "snooze_longer", value: `${incident.id}|4h`, user: ERIN }),
    ]);
    // Assess
    const outcomes = [a.body.outcome, b.body.outcome].sort();
    expect(outcomes).toEqual(["conflict", "done"]);
    const after = await stored(incident.id);
    expect(after.timeline.filter((e) => e.type === "snoozed")).toHaveLength(1);
    expect(runner.calls.filter((c) => c[0] === "resume")).toHaveLength(1);
    const loser = a.body.outcome === "conflict" ? a : b;
    expect(loser.body.message).toMatch(/already snoozed by .* until \d\d:\d\d UTC/);
  });
});

describe("POST /slack/interactions: replays", () => {
  it.each(["snooze", "acknowledge", "resolve"])(
    "acts once on a signed %s sent twice, even when another instance gets the copy",
    async (actionId) => {
      // Prepare: one click, as Slack signed it.
      const incident = await openIncident();
      const request = slackClick({
        signingSecret: SECRET,
        actionId,
        value: incident.id,
        user: DMITRI,
        timestamp: NOW,
      });
      const first = await post(handlerWith(), request);
      const after = await stored(incident.id);
      const calls = [...runner.calls];
      const said = [...responder.said];
      // Act: the same bytes again within the five minutes, to a second instance.
      const later = new Date(NOW.getTime() + 4 * 60_000);
      const replay = await post(handlerWith({ now: () => later }), request);
      // Assess
      expect(first.body.outcome).toBe("done");
      expect(replay).toEqual({
        status: 409,
        body: { error: "replayed_request", message: expect.stringMatching(/nothing changed/) },
      });
      expect(await stored(incident.id)).toEqual(after);
      expect(runner.calls).toEqual(calls);
      expect(responder.said).toEqual(said);
    },
  );

  it.each(["acknowledge", "resolve"])(
    "acts once on two copies of a signed %s sent at once",
    async (actionId) => {
      // Prepare
      const incident = await openIncident();
      const request = slackClick({
        signingSecret: SECRET,
        actionId,
        value: incident.id,
        user: DMITRI,
        timestamp: NOW,
      });
      // Act
      const answers = await Promise.all([
        post(handlerWith(), request),
        post(handlerWith(), request),
      ]);
      // Assess
      expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
      expect(answers.find((a) => a.status === 200)!.body.outcome).toBe("done");
      expect(runner.calls.filter(([call]) => call === "mirror")).toHaveLength(1);
      expect(await replayRecords()).toHaveLength(1);
    },
  );

  it("one snooze of 208 copies of one signed request, sent at once", async () => {
    // Prepare
    const incident = await openIncident();
    const request = slackClick({
      signingSecret: SECRET,
      actionId: "snooze",
      value: incident.id,
      user: DMITRI,
      timestamp: NOW,
    });
    // Act
    const answers = await Promise.all(
      Array.from({ length: 208 }, (_, i) =>
        post(handlerWith(), request).then((r) => [i, r.status]),
      ),
    );
    // Assess
    expect(answers.filter(([, status]) => status === 200)).toHaveLength(1);
    expect(answers.filter(([, status]) => status === 409)).toHaveLength(207);
    const after = await stored(incident.id);
    expect(after.timeline.filter((e) => e.type === "snoozed")).toHaveLength(1);
  });
});
