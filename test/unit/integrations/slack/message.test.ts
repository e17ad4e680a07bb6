import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ACTIONS_BLOCK_ID,
  type Block,
  escalationReply,
  incidentMessage,
} from "../../../../functions/integrations/slack/message.js";
import { escapeMrkdwn, link } from "../../../../functions/integrations/slack/text.js";
import {
  DMITRI,
  ERIN,
  GRACE_NO_SLACK,
  grafanaSilenceUrl,
  incident,
  longGeneratorUrl,
  notification,
  runbookDetails,
} from "../../../support/notifications.js";
import {
  blockProblems,
  blocksTextLength,
  hasLoneSurrogate,
  SLACK_LIMITS,
} from "../../../support/slack-block-limits.js";

const ID = "inc-20261130-0001";

function actions(blocks: Block[]) {
  return blocks.filter((block) => block.type === "actions");
}

/** Every mrkdwn text of a message, where Slack would parse mentions and links. */
function mrkdwnTexts(blocks: Block[]): string[] {
  return blocks.flatMap((block) => {
    if (block.type === "section")
      return [block.text.text, ...(block.fields ?? []).map((f) => f.text)];
    if (block.type === "context") return block.elements.map((e) => e.text);
    return [];
  });
}

describe("incidentMessage", () => {
  it("offers Acknowledge, Resolve and Snooze, each carrying the incident id", () => {
    const { blocks } = incidentMessage(notification("slack-incidents"));

    const [block, ...others] = actions(blocks);
    expect(others).toEqual([]);
    expect(block).toMatchObject({ type: "actions", block_id: ACTIONS_BLOCK_ID });
    expect(
      block!.type === "actions" &&
        block!.elements.map((b) => [
          b.type,
          b.action_id,
          "value" in b ? b.value : b.options.map((o) => o.value),
        ]),
    ).toEqual([
      ["button", "acknowledge", ID],
      ["button", "resolve", ID],
      ["button", "snooze", ID],
      ["overflow", "snooze_longer", [`${ID}|1h`, `${ID}|4h`]],
    ]);
    expect(ACTIONS_BLOCK_ID).toBe("incident-actions");
  });

  it("shows title, severity, team and the key labels only", () => {
    const { blocks, text } = incidentMessage(notification("slack-incidents", { recipients: [] }));

    expect(blocks[0]).toEqual({
      type: "header",
      text: {
        type: "plain_text",
        text: ":red_circle: GPU 3 memory above 95% on trainer-7",
        emoji: true,
      },
    });
    const fields = blocks[1]!.type === "section" ? blocks[1]!.fields!.map((f) => f.text) : [];
    expect(fields).toEqual([
      "*Severity*\nCRITICAL",
      "*Team*\nml-training",
      "*Status*\ntriggered",
      "*Started*\n2026-11-30T09:00:00.000Z",
      "*alertname*\n`GPUMemoryPressure`",
      "*job*\n`llm-pretrain`",
      "*instance*\n`trainer-7:9400`",
      "*model*\n`llama-70b`",
    ]);
    expect(text).toBe("[CRITICAL] GPU 3 memory above 95% on trainer-7 (ml-training)");
  });

  it("mentions the people paged, by Slack id or else by name", () => {
    const message = incidentMessage(
      notification("slack-incidents", {
        kind: "escalate",
        level: 2,
        recipients: [DMITRI, ERIN, GRACE_NO_SLACK],
      }),
    );

    expect(mrkdwnTexts(message.blocks)).toContain(
      "*Paged (level 2):* <@U0DMITRI1> <@U0ERIN001> Grace Okafor",
    );
    expect(message.text).toMatch(/<@U0DMITRI1> <@U0ERIN001> Grace Okafor$/);
    expect(mrkdwnTexts(message.blocks)).toContain(":arrow_double_up: Escalated to level 2");
    expect(actions(message.blocks)[0]).toMatchObject({ elements: [{}, {}, {}, {}] });
  });

  it("carries the runbook link, its summary and its first three diagnosis steps", () => {
    const runbook = runbookDetails();

    const texts = mrkdwnTexts(incidentMessage(notification("slack-incidents")).blocks);

    const section = texts.find((t) => t.startsWith("*Runbook:*"))!;
    const lines = section.split("\n");
    expect(lines[0]).toBe(`*Runbook:* <${runbook.url}|GPU Memory Pressure>`);
    expect(lines[1]).toBe(escapeMrkdwn(runbook.summary));
    expect(lines.slice(2)).toEqual(
      runbook.diagnosis.slice(0, 3).map((s, i) => `${i + 1}. ${escapeMrkdwn(s)}`),
    );
    expect(section).not.toContain(runbook.diagnosis[3]!.slice(0, 40));
  });

  it("links the alert source, dashboard and silence, escaping the URLs", () => {
    const { blocks } = incidentMessage(notification("slack-incidents"));

    const links = blocks.find(
      (block) => block.type === "context" && block.elements[0]!.text.includes("Alert source"),
    );
    expect(links).toEqual({
      type: "context",
      elements: [
        "<http://prometheus.example:9090/graph?g0.expr=gpu_memory&amp;g0.tab=1|Alert source>",
        "<https://grafana.example/d/gpu?var-instance=trainer-7|Dashboard>",
        "<http://alertmanager.example:9093/#/silences/new?filter=%7Balertname%3D%22GPU%22%7D|Silence>",
      ].map((text) => ({ type: "mrkdwn", text })),
    });
  });

  it("escapes text from alerts so it cannot mention @channel or forge links", () => {
    const hostile = incident({
      title: "<!channel> disk & <http://evil.example|click>",
      team: "ml<team>",
      labels: { alertname: "A<b>", job: "j&k", instance: "`x`" },
      annotations: { description: "<!here> look at <@U000EVIL>" },
    });

    const message = incidentMessage(
      notification("slack-incidents", { incident: hostile, runbook: null }),
    );

    const texts = [message.text, ...mrkdwnTexts(message.blocks)];
    for (const text of texts) {
      expect(text).not.toMatch(/<!channel>|<!here>|<@U000EVIL>|<http:\/\/evil/);
    }
    expect(texts).toContain("&lt;!here&gt; look at &lt;@U000EVIL&gt;");
    expect(texts).toContain("*Team*\nml&lt;team&gt;");
    expect(texts).toContain("*alertname*\n`A&lt;b&gt;`");
    expect(message.text).toBe(
      "[CRITICAL] &lt;!channel&gt; disk &amp; &lt;http://evil.example|click&gt; (ml&lt;team&gt;) <@U0DMITRI1>",
    );
  });

  it("keeps only Resolve once acknowledged, and no buttons once resolved", () => {
    const acknowledged = incidentMessage(
      notification("slack-incidents", { kind: "acknowledge", actor: "U0ERIN001", recipients: [] }),
    );
    const resolved = incidentMessage(
      notification("slack-incidents", { kind: "resolve", actor: "alertmanager", recipients: [] }),
    );

    expect(actions(acknowledged.blocks)).toEqual([
      {
        type: "actions",
        block_id: "incident-actions",
        elements: [
          {
            type: "button",
            action_id: "resolve",
            value: ID,
            text: { type: "plain_text", text: "Resolve", emoji: true },
            style: "primary",
          },
        ],
      },
    ]);
    expect(mrkdwnTexts(acknowledged.blocks)).toContain(":eyes: Acknowledged by <@U0ERIN001>");
    expect(acknowledged.text).toBe(
      "[ACKNOWLEDGED] GPU 3 memory above 95% on trainer-7 (ml-training)",
    );
    expect(actions(resolved.blocks)).toEqual([]);
    expect(mrkdwnTexts(resolved.blocks)).toContain(":white_check_mark: Resolved by alertmanager");
    expect(resolved.blocks[0]).toMatchObject({
      text: { text: expect.stringMatching(/^:white_check_mark: /) },
    });
  });

  it("stays within Block Kit's limits for a very long title", () => {
    const { blocks } = incidentMessage(
      notification("slack-incidents", {
        incident: incident({ title: "t".repeat(500), severity: "high" }),
      }),
    );

    const header = blocks[0]!;
    expect(header.type === "header" && header.text.text.length).toBeLessThanOrEqual(150);
  });
});

describe("escalationReply", () => {
  it("mentions the new level's people and points at the runbook", () => {
    const reply = escalationReply(
      notification("slack-incidents", { kind: "escalate", level: 3, recipients: [ERIN] }),
    );

    expect(reply.text).toBe(
      ":arrow_double_up: Escalated to level 3: <@U0ERIN001>, please take a look.",
    );
    expect(mrkdwnTexts(reply.blocks)).toEqual([
      reply.text,
      `Start with the runbook: <${runbookDetails().url}|GPU Memory Pressure>`,
    ]);
  });
});

describe("escapeMrkdwn and link", () => {
  it("leaves no control character and can be undone", () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const escaped = escapeMrkdwn(text);
        expect(escaped).not.toMatch(/[<>]/);
        const undone = escaped.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
        expect(undone).toBe(text);
      }),
    );
  });

  it("links only http(s) URLs and keeps a | in the URL from ending it", () => {
    expect(link("javascript:alert(1)", "x")).toBe("x");
    expect(link("https://a.example/?q=a|b", "A & B")).toBe(
      "<https://a.example/?q=a%7Cb|A &amp; B>",
    );
  });
});

describe("incidentMessage within Slack's documented limits", () => {
  it("fits a 5,370-character alert source link and a long silence link (once 8,029 characters in one block)", () => {
    const generatorUrl = longGeneratorUrl();
    const silenceUrl = grafanaSilenceUrl();
    expect(generatorUrl).toHaveLength(5370);

    const { blocks } = incidentMessage(
      notification("slack-incidents", { incident: incident({ generatorUrl, silenceUrl }) }),
    );

    expect(blockProblems(blocks)).toEqual([]);
    expect(blocksTextLength(blocks)).toBeLessThanOrEqual(SLACK_LIMITS.blocksTextTotal);
    const texts = mrkdwnTexts(blocks);
    // The source link is too long for Slack: shortened to the server it came from, never cut.
    expect(texts).toContain("<http://prometheus.example:9090/graph|Alert source (shortened)>");
    expect(texts).toContain(`<${escapeMrkdwn(silenceUrl)}|Silence>`);
    expect(texts).toContain("<https://grafana.example/d/gpu?var-instance=trainer-7|Dashboard>");
  });

  it("drops a link it can neither fit nor shorten, keeping its label", () => {
    const dashboardUrl = `https://grafana.example/${"d".repeat(4000)}`;

    const texts = mrkdwnTexts(
      incidentMessage(notification("slack-incidents", { incident: incident({ dashboardUrl }) }))
        .blocks,
    );

    expect(texts).toContain("Dashboard (link too long for Slack)");
    expect(texts.join("\n")).not.toContain("ddddd");
  });

  it("never cuts a UTF-16 surrogate pair: a 🔥 at the cut goes whole or not at all", () => {
    // Both parities of the cut, in the header (150) and in the summary (3,000 or less).
    for (let pad = 120; pad < 140; pad++) {
      const title = `${"x".repeat(pad)}${"🔥".repeat(20)}`;
      const description = `${"d".repeat(pad * 15)}${"🔥".repeat(1000)}`;
      const message = incidentMessage(
        notification("slack-incidents", {
          incident: incident({ title, annotations: { description } }),
        }),
      );

      expect(blockProblems(message.blocks)).toEqual([]);
      expect(hasLoneSurrogate(JSON.stringify(message))).toBe(false);
      expect(hasLoneSurrogate(message.text)).toBe(false);
    }
    // And half an emoji the alert itself carried (JSON can hold "\ud83d") becomes U+FFFD.
    const broken = incidentMessage(
      notification("slack-incidents", {
        incident: incident({ title: "hot \ud83d", annotations: { description: "\udd25 hot" } }),
      }),
    );
    expect(blockProblems(broken.blocks)).toEqual([]);
    expect(JSON.stringify(broken)).toContain("hot \ufffd");
  });

  it("never cuts an escaped character or a link in half", () => {
    const description = `${"a".repeat(1990)}${"<&>".repeat(400)}`;

    const { blocks } = incidentMessage(
      notification("slack-incidents", { incident: incident({ annotations: { description } }) }),
    );

    const summary = mrkdwnTexts(blocks)[0]!;
    expect(summary.endsWith("…")).toBe(true);
    expect(summary.slice(0, -1)).toMatch(/(&lt;|&amp;|&gt;|a)$/);
  });

  it("stays within every limit whatever the alert carries", () => {
    const text = fc.string({ unit: "binary", maxLength: 5000 });
    const url = fc.oneof(
      fc.constant(null),
      fc.webUrl(),
      text.map((t) => `https://x.example/?q=${t}`),
    );
    fc.assert(
      fc.property(
        fc.record({
          title: text,
          team: text,
          description: text,
          labels: fc.dictionary(
            fc.constantFrom("alertname", "job", "instance", "model", "x"),
            text,
          ),
          generatorUrl: url,
          dashboardUrl: url,
          silenceUrl: url,
          people: fc.integer({ min: 0, max: 300 }),
          kind: fc.constantFrom("trigger", "escalate", "acknowledge", "resolve") as fc.Arbitrary<
            "trigger" | "escalate" | "acknowledge" | "resolve"
          >,
        }),
        (alert) => {
          const recipients = Array.from({ length: alert.people }, (_, i) => ({
            userId: `u${i}`,
            name: alert.title.slice(0, 40) || `user ${i}`,
            ...(i % 2 ? { slack: `U${String(i).padStart(8, "0")}` } : {}),
          }));
          const n = notification("slack-incidents", {
            kind: alert.kind,
            level: 2,
            recipients,
            actor: alert.title,
            incident: incident({
              title: alert.title,
              team: alert.team,
              labels: alert.labels,
              annotations: { description: alert.description },
              generatorUrl: alert.generatorUrl,
              dashboardUrl: alert.dashboardUrl,
              silenceUrl: alert.silenceUrl,
            }),
          });
          for (const message of [incidentMessage(n), escalationReply(n)]) {
            expect(blockProblems(message.blocks)).toEqual([]);
            expect(blocksTextLength(message.blocks)).toBeLessThanOrEqual(
              SLACK_LIMITS.blocksTextTotal,
            );
            expect(message.text.length).toBeLessThanOrEqual(SLACK_LIMITS.textObject);
            expect(hasLoneSurrogate(message.text)).toBe(false);
          }
        },
      ),
      { seed: 1130, numRuns: 150 },
    );
  });

  it("gives the buttons a new block_id for each version of the message", () => {
    const first = incidentMessage(notification("slack-incidents"), { version: "a1" });
    const second = incidentMessage(notification("slack-incidents", { kind: "acknowledge" }), {
      version: "b2",
    });

    const ids = [first, second].map((m) => actions(m.blocks)[0]!);
    expect(ids.map((block) => block.type === "actions" && block.block_id)).toEqual([
      `${ACTIONS_BLOCK_ID}-a1`,
      `${ACTIONS_BLOCK_ID}-b2`,
    ]);
  });
});
