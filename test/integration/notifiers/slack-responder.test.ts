import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  inProcessResponder,
  isSlackNoteEvent,
  type NoteDeliveryOptions,
  noteDelivery,
  slackNoteEvent,
} from "../../../functions/integrations/slack/responder.js";
import { FakeSlack, RESPONSE_URL } from "../../support/fake-slack.js";
import { httpEvent } from "../../support/http-events.js";

const USER = "U0DMITRI1";
const FAST = {
  attempts: 3,
  minDelayMs: 5,
  maxDelayMs: 20,
  maxTotalMs: 5_000,
  maxRetryAfterMs: 2_000,
};

let slack: FakeSlack;
beforeAll(async () => {
  slack = await FakeSlack.start();
});
afterEach(() => slack.reset());
afterAll(async () => {
  await slack.close();
});

type Line = Record<string, unknown> & { message: string };

/** Delivers one note to a fresh response URL of the fake; answers what it logged. */
async function deliver(
  text: string,
  options: Partial<NoteDeliveryOptions> = {},
  responseUrl = slack.responseUrl({ user: USER, channel: "C001INCIDENT" }),
): Promise<Line[]> {
  const lines: Line[] = [];
  const record = (message: string, fields?: unknown) =>
    void lines.push({ message, ...(fields as Record<string, unknown>) });
  await noteDelivery({
    logger: { info: record, warn: record } as NoteDeliveryOptions["logger"],
    extraOrigins: [new URL(slack.apiUrl).origin],
    retryPolicy: FAST,
    ...options,
  })({ responseUrl, text });
  return lines;
}

describe("noteDelivery: notes through response URLs", () => {
  it("posts an ephemeral note that leaves the message alone, once, and logs no URL", async () => {
    const responseUrl = slack.responseUrl({ user: USER, channel: "C001INCIDENT" });

    const lines = await deliver(
      "Acknowledged by Dmitri Volkov (dmitri) at 09:30 UTC.",
      {},
      responseUrl,
    );

    expect(slack.notesTo(USER)).toEqual([
      {
        response_type: "ephemeral",
        replace_original: false,
        text: "Acknowledged by Dmitri Volkov (dmitri) at 09:30 UTC.",
      },
    ]);
    expect(slack.callsTo(RESPONSE_URL)[0]!.contentType).toMatch(/^application\/json/);
    expect(lines).toEqual([
      expect.objectContaining({ event: "slack_note", delivered: true, attempts: 1 }),
    ]);
    expect(JSON.stringify(lines)).not.toContain(new URL(responseUrl).pathname);
  });

  it("waits out a 429's Retry-After and tries again", async () => {
    slack.failNext(RESPONSE_URL, { status: 429, retryAfter: 1 });
    const sleeps: number[] = [];
    const clock = {
      now: () => new Date(),
      sleep: async (ms: number) => void sleeps.push(ms),
      random: () => 0,
    };

    await deliver("note", { clock });

    const [limited, posted] = slack.callsTo(RESPONSE_URL);
    expect([limited!.status, posted!.status]).toEqual([429, 200]);
    expect(sleeps).toEqual([1000]);
    expect(slack.notesTo(USER)).toHaveLength(1);
  });

  it("tries a 5xx again, a bounded number of times", async () => {
    slack.failNext(RESPONSE_URL, { status: 503, times: Number.POSITIVE_INFINITY });

    const lines = await deliver("note");

    expect(slack.callsTo(RESPONSE_URL).map((c) => c.status)).toEqual([503, 503, 503]);
    expect(lines).toEqual([
      expect.objectContaining({ event: "slack_note", delivered: false, attempts: 3 }),
    ]);
  });

  it("never repeats a post Slack may have received: a timeout, a dropped connection", async () => {
    for (const failure of [{ hang: true }, { drop: true }]) {
      slack.reset();
      slack.failNext(RESPONSE_URL, { ...failure, times: Number.POSITIVE_INFINITY });

      const lines = await deliver("note", { timeoutMs: 200 });

      expect(slack.callsTo(RESPONSE_URL), JSON.stringify(failure)).toHaveLength(1);
      expect(lines).toEqual([expect.objectContaining({ delivered: false, attempts: 1 })]);
    }
  });

  it("takes Slack's refusal of a used URL as final", async () => {
    const responseUrl = slack.responseUrl({ user: USER, channel: "C1" });
    for (let i = 0; i < 5; i++) await deliver(`note ${i}`, {}, responseUrl);
    slack.clearCalls();

    const lines = await deliver("a sixth", {}, responseUrl);

    expect(slack.callsTo(RESPONSE_URL).map((c) => [c.status, c.error])).toEqual([
      [404, "used_url"],
    ]);
    expect(lines[0]).toMatchObject({ delivered: false, reason: expect.stringMatching(/used_url/) });
  });

  it.each([
    ["another host", "https://hooks.slack.com.evil.example/actions/T1/1/x"],
    ["plain HTTP to Slack's host", "http://hooks.slack.com/actions/T1/1/x"],
    ["not a URL", "hooks"],
  ])("posts nothing to %s", async (_, responseUrl) => {
    const lines = await deliver("note", { extraOrigins: [] }, responseUrl);

    expect(lines).toEqual([expect.objectContaining({ event: "slack_note", delivered: false })]);
  });

  it("posts nothing to a local address unless it is the configured fake's", async () => {
    await deliver("note", { extraOrigins: [] });

    expect(slack.calls).toEqual([]);
  });
});

describe("inProcessResponder", () => {
  it("hands the note over at once, and settled() waits for its delivery", async () => {
    let release: () => void = () => undefined;
    const delivered: string[] = [];
    const responder = inProcessResponder(async (note) => {
      await new Promise<void>((r) => (release = r));
      delivered.push(note.text);
    });

    await responder.tell({ responseUrl: "https://hooks.slack.com/x", text: "later" });
    expect(delivered).toEqual([]);
    const settled = responder.settled();
    release();
    await settled;

    expect(delivered).toEqual(["later"]);
  });
});

describe("the Slack function's note events", () => {
  it("tells its own note events from API Gateway's", () => {
    const note = slackNoteEvent({ responseUrl: "https://hooks.slack.com/x", text: "t" });

    expect(isSlackNoteEvent(note)).toBe(true);
    expect(isSlackNoteEvent(JSON.parse(JSON.stringify(note)))).toBe(true);
    expect(isSlackNoteEvent(httpEvent({ routeKey: "POST /slack/interactions", body: "" }))).toBe(
      false,
    );
    expect(isSlackNoteEvent({ tocsin: "slack-note", note: { text: "t" } })).toBe(false);
    expect(isSlackNoteEvent(null)).toBe(false);
  });
});
