import { describe, expect, it } from "vitest";
import { consoleOutbox } from "../../../functions/integrations/email/outbox.js";
import { signLink } from "../../../functions/integrations/links/token.js";

/**
 * The local server's texts without a data directory go to the log only: an acknowledgement
 * link's token acts for its person, so the log shows the text without it (and the phone masked).
 */
describe("consoleOutbox", () => {
  it("logs a text with its link tokens withheld and the phone masked", async () => {
    const token = signLink("link-key", {
      incidentId: "8a4f2c1e-0b6d-4e3f-9a21-5c7d8e9f0a1b",
      userId: "alice",
      action: "acknowledge",
      expiresAt: 1_900_000_000,
    });
    const lines: Array<[string, Record<string, unknown>]> = [];
    const outbox = consoleOutbox((message, fields) => void lines.push([message, fields]));

    await outbox({
      kind: "sms",
      to: "+447700900123",
      body: `tocsin CRIT loss is NaN (ml-training) Ack: http://127.0.0.1:8080/a/${token} or reply 1`,
    });

    expect(lines).toEqual([
      [
        "sms (local outbox)",
        {
          event: "sms_outbox",
          to: expect.not.stringContaining("900123"),
          body: "tocsin CRIT loss is NaN (ml-training) Ack: http://127.0.0.1:8080/a/[token withheld from logs] or reply 1",
        },
      ],
    ]);
    expect(JSON.stringify(lines)).not.toContain(token.split(".")[1]);
  });
});
