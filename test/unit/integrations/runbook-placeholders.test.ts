/**
 * A runbook's `$label` placeholders filled in with the incident's labels, as each medium shows
 * them: Slack (mrkdwn-escaped), email (plain text), PagerDuty (JSON details) and the incident
 * page (HTML-escaped). A label the alert lacks stays visible as its placeholder.
 */
import { describe, expect, it } from "vitest";
import { filledRunbook } from "../../../functions/core/runbook.js";
import { parseRunbook } from "../../../functions/core/yaml-files.js";
import { emailBody } from "../../../functions/integrations/email/message.js";
import { pagerDutyEvent } from "../../../functions/integrations/pagerduty/event.js";
import { incidentMessage } from "../../../functions/integrations/slack/message.js";
import { incidentView } from "../../../functions/pages/incident-view.js";
import { incident, notification } from "../../support/notifications.js";

const BASE = "https://github.com/tocsin-dev/tocsin/blob/main/runbooks/";
const HOSTILE = "llama<script>alert(1)</script>&<!channel>";

const definition = parseRunbook(
  "gpu-memory-pressure.md",
  `---
title: GPU Memory Pressure
alerts:
  - alertname="GPUMemoryPressure"
severity: high
team: ml-training
summary: GPU $gpu of $node is nearly out of memory.
---
# GPU Memory Pressure
## Symptoms
Memory is nearly full.
## Diagnosis
1. List the processes on GPU $gpu of $node with \`nvidia-smi -i $gpu\`.
2. Graph \`gpu_memory_used_bytes{node="$node", gpu="$gpu"}\` of job $job.
3. Ask the owner of pod $pod.
## Resolution
Lower the batch size of $job.
## Post-incident
Write it up.
`,
);

const labels = { ...incident().labels, gpu: "3", node: HOSTILE };
const filled = filledRunbook([definition], BASE, { runbook: incident().runbook, labels });
const withLabels = { incident: incident({ labels }), runbook: filled };

describe("a filled runbook in every medium", () => {
  it("is filled in the core, with the absent label left as its placeholder", () => {
    expect(filled?.summary).toBe(`GPU 3 of ${HOSTILE} is nearly out of memory.`);
    expect(filled?.diagnosis[2]).toBe("Ask the owner of pod $pod.");
  });

  it("Slack: the values escaped for mrkdwn, no mention or markup injected", () => {
    const text = JSON.stringify(incidentMessage(notification("slack-incidents", withLabels)));
    expect(text).toContain(
      "GPU 3 of llama&lt;script&gt;alert(1)&lt;/script&gt;&amp;&lt;!channel&gt;",
    );
    expect(text).toContain("nvidia-smi -i 3");
    expect(text).toContain("Ask the owner of pod $pod.");
    expect(text).not.toContain("<script>");
    expect(text).not.toContain("<!channel>");
  });

  it("email: plain text, the whole runbook filled", () => {
    const body = emailBody(notification("email-oncall", withLabels));
    expect(body).toContain(`GPU 3 of ${HOSTILE} is nearly out of memory.`);
    expect(body).toContain("Lower the batch size of llm-pretrain.");
    expect(body).toContain("Ask the owner of pod $pod.");
  });

  it("PagerDuty: the filled summary and first steps in the event's details", () => {
    const event = pagerDutyEvent(notification("pagerduty", withLabels), "routing-key");
    const details = JSON.stringify(event.payload?.custom_details);
    expect(details).toContain(
      JSON.stringify(`GPU 3 of ${HOSTILE} is nearly out of memory.`).slice(1, -1),
    );
    expect(details).toContain("List the processes on GPU 3");
    expect(details).not.toContain("$gpu");
  });

  it("the incident page: the summary and steps filled and HTML-escaped", () => {
    const page = incidentView({ ...incident({ labels }), timeline: [] }, filled).toString();
    expect(page).toContain(
      "GPU 3 of llama&lt;script&gt;alert(1)&lt;/script&gt;&amp;&lt;!channel&gt;",
    );
    expect(page).toContain("Ask the owner of pod $pod.");
    expect(page).not.toContain("<script>");
  });
});
