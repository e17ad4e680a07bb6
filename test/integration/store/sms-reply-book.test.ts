import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DynamoSmsReplyBook,
  MemorySmsReplyBook,
  type SmsReplyBook,
} from "../../../functions/integrations/sms/reply-book.js";
import type { EmbeddedDynamo } from "../../../functions/local/embedded-dynamodb.js";
import { clientFor, freshTable, startTestDynamo } from "../../support/dynamo.js";

/* The reply book on both stores: the latest text to a number wins, whatever order the writes land in. */

let dynamo: EmbeddedDynamo;
const books: Array<[string, () => Promise<SmsReplyBook>]> = [
  ["memory", async () => new MemorySmsReplyBook()],
  [
    "DynamoDB",
    async () => {
      const client = clientFor(dynamo.endpoint);
      return new DynamoSmsReplyBook(client, await freshTable(client));
    },
  ],
];

beforeAll(async () => {
  dynamo = await startTestDynamo();
}, 30_000);
afterAll(async () => {
  await dynamo?.close();
});

describe.each(books)("the SMS reply book (%s)", (_, make) => {
  it("knows nothing of a number never texted", async () => {
    expect(await (await make()).latest("+447700900123")).toBeNull();
  });

  it("keeps the latest incident texted to each number, an older write landing late changes nothing", async () => {
    const book = await make();
    await book.remember("+447700900123", "inc-2", "2026-11-30T09:02:00.000Z");
    await book.remember("+447700900123", "inc-1", "2026-11-30T09:01:00.000Z");
    await book.remember("+447700900456", "inc-1", "2026-11-30T09:01:00.000Z");

    expect(await book.latest("+447700900123")).toEqual({
      incidentId: "inc-2",
      sentAt: "2026-11-30T09:02:00.000Z",
    });
    expect(await book.latest("+447700900456")).toEqual({
      incidentId: "inc-1",
      sentAt: "2026-11-30T09:01:00.000Z",
    });

    await book.remember("+447700900123", "inc-3", "2026-11-30T09:03:00.000Z");
    expect((await book.latest("+447700900123"))?.incidentId).toBe("inc-3");
  });

  it("of concurrent texts to one number, the newest wins", async () => {
    const book = await make();
    await Promise.all(
      [5, 1, 4, 2, 3].map((minute) =>
        book.remember("+447700900123", `inc-${minute}`, `2026-11-30T09:0${minute}:00.000Z`),
      ),
    );

    expect((await book.latest("+447700900123"))?.incidentId).toBe("inc-5");
  });
});
