import { Logger } from "@aws-lambda-powertools/logger";
import type { SNSEvent } from "aws-lambda";
import { beforeEach, describe, expect, it } from "vitest";
import { MemoryIncidentStore } from "../../../../functions/adapters/memory/incident-store.js";
import { MemoryReplayGuard } from "../../../../functions/adapters/memory/replay-guard.js";
import { scaledAfter } from "../../../../functions/core/clock.js";
import type { Config } from "../../../../functions/core/config.js";
import type { EscalationRunner } from "../../../../functions/core/escalation-runner.js";
import { parseReply, smsRepliesHandler } from "../../../../functions/integrations/sms/replies.js";
import { MemorySmsReplyBook } from "../../../../functions/integrations/sms/reply-book.js";
import { fixture } from "../../../support/fixtures.js";
import { shippedConfig } from "../../../support/handler-deps.js";
import { candidate } from "../../../support/incidents.js";
import { fired } from "../../../support/lifecycle.js";
import { logLines } from "../../../support/log-lines.js";

const ALICE_PHONE = "+447911123456";
const NOW = new Date("2026-11-30T09:31:02Z");
const OPENED = "2026-11-30T09:25:00.000Z";

/** The shipped people, Alice with a phone (as `users.alice.phone` in tocsin.yaml). */
const config: Config = {
  ...shippedConfig,
  users: { ...shippedConfig.users, alice: { ...shippedConfig.users.alice!, phone: ALICE_PHONE } },
};

/** The documented SNS Lambda event carrying End User Messaging's inbound-SMS JSON. */
function replyEvent(over: Record<string, unknown> = {}): SNSEvent {
  const event = fixture("sns-two-way-sms-reply.json") as unknown as SNSEvent;
  const record = event.Records[0]!;
  const message = { ...JSON.parse(record.Sns.Message), ...over };
  return { Records: [{ ...record, Sns: { ...record.Sns, Message: JSON.stringify(message) } }] };
}

let store: MemoryIncidentStore;
let replayGuard: MemoryReplayGuard;
let replyBook: MemorySmsReplyBook;
let calls: string[];

function handler(
  logger = new Logger({ serviceName: "tocsin-test", logLevel: "SILENT" }),
  with_ = config,
) {
  const runner: EscalationRunner = {
    start: async (id) => void calls.push(`start ${id}`),
    stop: async (id) => void calls.push(`stop ${id}`),
    mirror: async (id, kind) => void calls.push(`mirror ${id} ${kind}`),
    resume: async (id) => void calls.push(`resume ${id}`),
  };
  return smsRepliesHandler({
    store,
    config: with_,
    escalation: runner,
    after: scaledAfter(1),
    replyBook,
    replayGuard,
    logger,
    now: () => NOW,
  });
}

async function opened(fingerprint: string) {
  const incident = candidate(fingerprint, OPENED);
  await fired(store, incident);
  return incident;
}

beforeEach(() => {
  store = new MemoryIncidentStore();
  replayGuard = new MemoryReplayGuard();
  replyBook = new MemorySmsReplyBook();
  calls = [];
});

describe("parseReply", () => {
  it("reads the sender, the text and the inbound id of End User Messaging's JSON", () => {
    const event = fixture("sns-two-way-sms-reply.json") as unknown as SNSEvent;

    expect(parseReply(event.Records[0]!.Sns.Message)).toEqual({
      phone: ALICE_PHONE,
      body: "1",
      id: "cae173d2-66b9-564c-8309-21f858e9fb84",
    });
  });

  it.each([
    ["not JSON", "1"],
    ["JSON that is not an object", "[1]"],
    ["no sender", JSON.stringify({ messageBody: "1", inboundMessageId: "x" })],
    [
      "a sender that is not E.164",
      JSON.stringify({ originationNumber: "07700900123", messageBody: "1", inboundMessageId: "x" }),
    ],
    ["no inbound id", JSON.stringify({ originationNumber: ALICE_PHONE, messageBody: "1" })],
    [
      "a body that is not text",
      JSON.stringify({ originationNumber: ALICE_PHONE, messageBody: 1, inboundMessageId: "x" }),
    ],
  ])("is null for %s", (_, message) => {
    expect(parseReply(message)).toBeNull();
  });
});

describe("an SMS reply", () => {
  it.each(["1", " ack ", "ACK", "Ack\n"])(
    "%j from Alice's phone acknowledges the latest incident texted to it, as Alice, via sms",
    async (body) => {
      const older = await opened("fp-older");
      const latest = await opened("fp-latest");
      await replyBook.remember(ALICE_PHONE, older.id, "2026-11-30T09:26:00.000Z");
      await replyBook.remember(ALICE_PHONE, latest.id, "2026-11-30T09:27:00.000Z");

      const result = await handler()(replyEvent({ messageBody: body }));

      expect(result.outcomes).toEqual(["acknowledged"]);
      const acked = await store.get(latest.id);
      expect(acked?.status).toBe("acknowledged");
      expect(acked?.timeline.at(-1)).toMatchObject({
        type: "acknowledged",
        actor: "Alice Martin (alice)",
        via: "sms",
      });
      expect((await store.get(older.id))?.status).toBe("triggered");
      expect(calls).toEqual([`stop ${latest.id}`, `mirror ${latest.id} acknowledge`]);
    },
  );

  it("a repeat of the same inbound message (SNS delivers at least once) changes nothing", async () => {
    const incident = await opened("fp-repeat");
    await replyBook.remember(ALICE_PHONE, incident.id, "2026-11-30T09:26:00.000Z");
    await handler()(replyEvent());
    const after = await store.get(incident.id);
    calls = [];

    const again = await handler()(replyEvent());

    expect(again.outcomes).toEqual(["replayed"]);
    expect(await store.get(incident.id)).toEqual(after);
    expect(calls).toEqual([]);
  });

  it("a second reply (a new inbound id) to an acknowledged incident changes nothing and says why", async () => {
    const incident = await opened("fp-twice");
    await replyBook.remember(ALICE_PHONE, incident.id, "2026-11-30T09:26:00.000Z");
    await handler()(replyEvent());
    const after = await store.get(incident.id);

    const again = await handler()(replyEvent({ inboundMessageId: "a-second-reply" }));

    expect(again.outcomes).toEqual(["unchanged"]);
    expect(await store.get(incident.id)).toEqual(after);
  });

  it.each([
    ["another text", { messageBody: "on my way" }],
    ["STOP (End User Messaging's own keyword)", { messageBody: "STOP" }],
    ["a number that is nobody's phone", { originationNumber: "+447700900456" }],
    ["a payload that is not End User Messaging's", { originationNumber: 12 }],
  ])("%s writes nothing and logs the number masked", async (_, over) => {
    const incident = await opened("fp-ignored");
    await replyBook.remember(ALICE_PHONE, incident.id, "2026-11-30T09:26:00.000Z");
    await replyBook.remember("+447700900456", incident.id, "2026-11-30T09:26:00.000Z");
    const before = await store.get(incident.id);

    let result: { outcomes: string[] } | undefined;
    const lines = await logLines(async (logger) => {
      result = await handler(logger)(replyEvent(over));
    });

    expect(result?.outcomes).toEqual(["ignored"]);
    expect(await store.get(incident.id)).toEqual(before);
    expect(
      await replayGuard.seen("sms:cae173d2-66b9-564c-8309-21f858e9fb84", NOW.toISOString()),
    ).toBe(false);
    expect(calls).toEqual([]);
    expect(lines.some((line) => line.event === "sms_reply_ignored")).toBe(true);
    expect(JSON.stringify(lines)).not.toMatch(/447911123456|447700900456/);
  });

  it("from a number two people share (which the config refuses), acknowledges nothing", async () => {
    const shared: Config = {
      ...config,
      users: { ...config.users, bob: { ...config.users.bob!, phone: ALICE_PHONE } },
    };
    const incident = await opened("fp-shared");
    await replyBook.remember(ALICE_PHONE, incident.id, "2026-11-30T09:26:00.000Z");

    const result = await handler(undefined, shared)(replyEvent());

    expect(result.outcomes).toEqual(["ignored"]);
    expect((await store.get(incident.id))?.status).toBe("triggered");
  });

  it("with no incident texted to the number, acknowledges nothing", async () => {
    await opened("fp-never-texted");

    expect((await handler()(replyEvent())).outcomes).toEqual(["ignored"]);
  });
});
