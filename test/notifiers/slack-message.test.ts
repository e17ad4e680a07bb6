import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ACTIONS_BLOCK_ID,
  type Block,
  escalationReply,
  escapeMrkdwn,
  incidentMessage,
  link,
} from "../../functions/adapters/notifiers/slack-message.js";
import {
  DMITRI,
  ERIN,
  GRACE_NO_SLACK,
  incident,
  notification,
  runbookDetails,
} from "./notifications.js";

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
    const texts = mrkdwnTexts(incidentMessage(notification("slack-incidents")).blocks);

    expect(texts).toContain(
      [
        "<http://prometheus.example:9090/graph?g0.expr=gpu_memory&amp;g0.tab=1|Alert source>",
        "<https://grafana.example/d/gpu?var-instance=trainer-7|Dashboard>",
        "<http://alertmanager.example:9093/#/silences/new?filter=%7Balertname%3D%22GPU%22%7D|Silence>",
      ].join("  ·  "),
    );
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
