import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeSlack, RESPONSE_URL } from "../../support/fake-slack.js";
import { waitUntil } from "../../support/poll-until.js";

/**
 * The fake must refuse what Slack refuses, or the notifier's tests prove nothing: each case
 * here is a documented limit or refusal (see test/support/slack-block-limits.ts for sources).
 */
const TOKEN = "xoxb-fake-test";
let slack: FakeSlack;
let clock = Date.now();

beforeAll(async () => {
  slack = await FakeSlack.start({ token: TOKEN, now: () => clock });
});
afterEach(() => slack.reset());
afterAll(async () => {
  await slack.close();
});

/** A Web API call as WebClient makes it: form-encoded, blocks as JSON, bearer token. */
async function call(method: string, args: Record<string, unknown>, token = TOKEN) {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(args))
    form.set(key, typeof value === "string" ? value : JSON.stringify(value));
  const response = await fetch(`${slack.apiUrl}${method}`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: form.toString(),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    body: (await response.json()) as Record<string, unknown>,
  };
}

const section = (text: string) => ({ type: "section", text: { type: "mrkdwn", text } });
const post = (blocks: unknown[], extra: Record<string, unknown> = {}) =>
  call("chat.postMessage", { channel: "#incidents", text: "fallback", blocks, ...extra });

describe("FakeSlack refuses blocks over Block Kit's limits, as Slack does", () => {
  const refusals: Array<[string, unknown[], string]> = [
    ["section text of 3,001 characters", [section("x".repeat(3001))], "/blocks/0/text/text"],
    [
      "a context element of 3,001 characters",
      [{ type: "context", elements: [{ type: "mrkdwn", text: "x".repeat(3001) }] }],
      "/blocks/0/elements/0/text",
    ],
    [
      "11 context elements",
      [
        {
          type: "context",
          elements: Array.from({ length: 11 }, () => ({ type: "mrkdwn", text: "a" })),
        },
      ],
      "/blocks/0/elements",
    ],
    [
      "a header of 151 characters",
      [{ type: "header", text: { type: "plain_text", text: "h".repeat(151) } }],
      "/blocks/0/text/text",
    ],
    [
      "11 section fields",
      [
        {
          type: "section",
          fields: Array.from({ length: 11 }, () => ({ type: "mrkdwn", text: "f" })),
        },
      ],
      "/blocks/0/fields",
    ],
    ["51 blocks", Array.from({ length: 51 }, () => ({ type: "divider" })), "/blocks"],
    [
      "a button text of 76 characters",
      [
        {
          type: "actions",
          elements: [
            { type: "button", action_id: "a", text: { type: "plain_text", text: "b".repeat(76) } },
          ],
        },
      ],
      "/blocks/0/elements/0/text/text",
    ],
    [
      "a button value of 2,001 characters",
      [
        {
          type: "actions",
          elements: [
            {
              type: "button",
              action_id: "a",
              value: "v".repeat(2001),
              text: { type: "plain_text", text: "b" },
            },
          ],
        },
      ],
      "/blocks/0/elements/0/value",
    ],
    [
      "an overflow option value of 151 characters",
      [
        {
          type: "actions",
          elements: [
            {
              type: "overflow",
              action_id: "o",
              options: [{ text: { type: "plain_text", text: "o" }, value: "v".repeat(151) }],
            },
          ],
        },
      ],
      "/blocks/0/elements/0/options/0/value",
    ],
    [
      "two blocks with one block_id",
      [
        { type: "divider", block_id: "same" },
        { type: "divider", block_id: "same" },
      ],
      "/blocks/1/block_id",
    ],
    ["a lone UTF-16 surrogate", [section("fire \ud83d")], "/blocks/0/text/text"],
  ];

  it.each(refusals)(
    "refuses %s with invalid_blocks naming the place",
    async (_, blocks, pointer) => {
      const answer = await post(blocks);

      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ ok: false, error: "invalid_blocks" });
      expect(answer.body.errors).toEqual(
        expect.arrayContaining([expect.stringContaining(`[json-pointer:${pointer}]`)]),
      );
      expect(slack.messages.size).toBe(0);
    },
  );

  it("accepts every limit exactly", async () => {
    const answer = await post([
      { type: "header", text: { type: "plain_text", text: "h".repeat(150) } },
      section("x".repeat(3000)),
      {
        type: "context",
        elements: Array.from({ length: 10 }, () => ({ type: "mrkdwn", text: "a" })),
      },
      section("fire \ud83d\udd25"),
    ]);

    expect(answer.body).toMatchObject({ ok: true });
  });

  it("refuses blocks carrying more than 12,000 characters in all with msg_blocks_too_long", async () => {
    const answer = await post(Array.from({ length: 5 }, () => section("x".repeat(2500))));

    expect(answer.body).toEqual({ ok: false, error: "msg_blocks_too_long" });
  });

  it("truncates a text over 40,000 characters with a warning, and refuses it in chat.update", async () => {
    const long = "t".repeat(40_001);
    const posted = await call("chat.postMessage", { channel: "#incidents", text: long });
    expect(posted.body).toMatchObject({ ok: true, warning: "message_truncated" });
    const message = slack.messages.get(`${posted.body.channel}/${posted.body.ts}`)!;
    expect(String(message.text)).toHaveLength(40_000);

    const updated = await call("chat.update", {
      channel: posted.body.channel,
      ts: posted.body.ts,
      text: long,
    });
    expect(updated.body).toEqual({ ok: false, error: "msg_too_long" });
  });
});

describe("FakeSlack's other refusals", () => {
  it("answers invalid_auth to another token and not_authed to none", async () => {
    expect(
      (await call("chat.postMessage", { channel: "#a", text: "t" }, "xoxb-other")).body,
    ).toEqual({
      ok: false,
      error: "invalid_auth",
    });
    expect((await call("chat.postMessage", { channel: "#a", text: "t" }, "")).body).toEqual({
      ok: false,
      error: "not_authed",
    });
  });

  it("answers channel_not_found for a deleted channel and not_in_channel where the bot is not", async () => {
    slack.deleteChannel("#gone");
    slack.leaveChannel("#private");

    expect((await call("chat.postMessage", { channel: "#gone", text: "t" })).body.error).toBe(
      "channel_not_found",
    );
    expect((await call("chat.postMessage", { channel: "#private", text: "t" })).body.error).toBe(
      "not_in_channel",
    );
    expect((await call("chat.postMessage", { channel: "#alerts", text: "t" })).body.ok).toBe(true);
  });
});

describe("FakeSlack's fault injection", () => {
  it("rate limits with HTTP 429, Retry-After and ratelimited", async () => {
    slack.failNext("chat.postMessage", { status: 429, retryAfter: 7 });

    const limited = await call("chat.postMessage", { channel: "#a", text: "t" });
    const next = await call("chat.postMessage", { channel: "#a", text: "t" });

    expect(limited).toEqual({
      status: 429,
      retryAfter: "7",
      body: { ok: false, error: "ratelimited" },
    });
    expect(next.body.ok).toBe(true);
  });

  it("hangs until the client gives up, for any method with *", async () => {
    slack.failNext("*", { hang: true });

    const attempt = fetch(`${slack.apiUrl}chat.update`, {
      method: "POST",
      body: "",
      signal: AbortSignal.timeout(200),
    });

    await expect(attempt).rejects.toThrow();
    expect(slack.calls.map((c) => [c.method, c.status])).toEqual([["chat.update", 0]]);
  });

  it("answers slowly but normally with only a delay", async () => {
    slack.failNext("chat.postMessage", { delayMs: 150 });

    const started = performance.now();
    const answer = await call("chat.postMessage", { channel: "#a", text: "t" });

    expect(answer.body.ok).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it("holds an answer until the test lets it go", async () => {
    let release: () => void = () => undefined;
    slack.failNext("chat.postMessage", { until: new Promise<void>((r) => (release = r)) });

    const answer = call("chat.postMessage", { channel: "#a", text: "t" });
    await waitUntil(() => slack.calls.length === 1, "the call to arrive", 2_000, 5);
    expect(slack.calls[0]!.status).toBe(0);
    release();

    expect((await answer).body.ok).toBe(true);
  });
});

describe("FakeSlack's response URLs", () => {
  const respond = (url: string, body: unknown) =>
    fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));

  it("records the notes per user, and accepts five posts within 30 minutes", async () => {
    const url = slack.responseUrl({ user: "U0DMITRI1", channel: "C001INCIDENT" });
    const note = { response_type: "ephemeral", replace_original: false, text: "Acknowledged." };

    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await respond(url, note));

    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 404]);
    expect(answers.at(-1)!.body).toEqual({ ok: false, error: "used_url" });
    expect(slack.notesTo("U0DMITRI1")).toEqual(Array.from({ length: 5 }, () => note));
    expect(slack.callsTo(RESPONSE_URL)).toHaveLength(6);
  });

  it("expires a URL after 30 minutes, refuses no text and bad blocks", async () => {
    const url = slack.responseUrl({ user: "U1", channel: "C1" });
    expect((await respond(url, {})).body).toEqual({ ok: false, error: "no_text" });
    expect((await respond(url, { blocks: [section("x".repeat(3001))] })).body).toMatchObject({
      error: "invalid_blocks",
    });
    clock += 30 * 60_000 + 1;
    expect(await respond(url, { text: "late" })).toEqual({
      status: 404,
      body: { ok: false, error: "expired_url" },
    });
    expect(slack.notesTo("U1")).toEqual([]);
  });
});
