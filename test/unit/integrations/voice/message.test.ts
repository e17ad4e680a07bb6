import { describe, expect, it } from "vitest";
import {
  escapeXml,
  SSML_LIMIT,
  voiceScript,
} from "../../../../functions/integrations/voice/message.js";
import { wellFormedSsml } from "../../../support/fake-aws-messaging.js";
import { incident, notification } from "../../../support/notifications.js";

describe("voiceScript", () => {
  it("says severity, title, team and how to acknowledge, twice, as SSML", () => {
    const script = voiceScript(
      notification("pagerduty", { incident: incident({ title: "Disk full on db-1" }) }),
      {
        links: true,
        replies: true,
      },
    );

    const said =
      "This is tocsin. Critical incident for team ml-training: Disk full on db-1. To acknowledge, " +
      "open the link in the text message or Slack message we sent you, or reply 1 to the text message.";
    expect(script).toBe(`<speak>${said}<break time="1s"/>Again. ${said}</speak>`);
    expect(wellFormedSsml(script)).toBe(true);
  });

  it("escapes what SSML would choke on in the title and the team", () => {
    const script = voiceScript(
      notification("pagerduty", {
        incident: incident({ title: `R&D <db> "primary" isn't up`, team: "a&b" }),
      }),
    );

    expect(script).toContain("R&amp;D &lt;db&gt; &quot;primary&quot; isn&apos;t up");
    expect(script).toContain("team a&amp;b");
    expect(wellFormedSsml(script)).toBe(true);
  });

  it("says the level of an escalation, and where to acknowledge without links", () => {
    const script = voiceScript(notification("pagerduty", { kind: "escalate", level: 2 }));

    expect(script).toContain("Nobody has acknowledged it: this is escalation level 2.");
    expect(script).toContain("use the Slack message we sent you or the tocsin incident page");
  });

  it("stays under End User Messaging's SSML limit for any title", () => {
    const script = voiceScript(
      notification("pagerduty", { incident: incident({ title: "&<>".repeat(5000) }) }),
      {
        links: true,
      },
    );

    expect([...script].length).toBeLessThanOrEqual(SSML_LIMIT);
    expect(wellFormedSsml(script)).toBe(true);
    expect(script).toContain(", and more.");
  });

  it("escapeXml leaves plain text alone", () => {
    expect(escapeXml("disk full on db-1")).toBe("disk full on db-1");
  });
});
