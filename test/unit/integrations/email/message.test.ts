import { describe, expect, it } from "vitest";
import { emailBody, emailSubject } from "../../../../functions/integrations/email/message.js";
import {
  DMITRI,
  ERIN,
  GRACE_NO_SLACK,
  incident,
  notification,
  runbookDetails,
} from "../../../support/notifications.js";

describe("emailSubject", () => {
  it.each([
    ["trigger", 1, "[CRITICAL] GPU 3 memory above 95% on trainer-7 (ml-training)"],
    ["escalate", 2, "[CRITICAL] Level 2: GPU 3 memory above 95% on trainer-7 (ml-training)"],
    ["acknowledge", 1, "[ACKNOWLEDGED] GPU 3 memory above 95% on trainer-7 (ml-training)"],
    ["resolve", 1, "[RESOLVED] GPU 3 memory above 95% on trainer-7 (ml-training)"],
  ] as const)("%s at level %i: %s", (kind, level, subject) => {
    expect(emailSubject(notification("email-oncall", { kind, level }))).toBe(subject);
  });

  it("cuts a long title, keeps the team, and has no line breaks, under 100 characters", () => {
    const long = incident({
      title: `Loss is NaN\non ${"very-long-run-name-".repeat(10)}`,
      severity: "high",
    });

    const subject = emailSubject(notification("email-oncall", { incident: long }));

    expect(subject.length).toBeLessThan(100);
    expect(subject).toMatch(
      /^\[HIGH\] Loss is NaN on very-long-run-name-.*\.\.\. \(ml-training\)$/,
    );
    expect(subject).not.toMatch(/[\r\n\t]/);
  });
});

describe("emailBody", () => {
  it("tells a person what, how bad, whose, who is paged, with labels and links", () => {
    const body = emailBody(
      notification("email-oncall", { recipients: [DMITRI, ERIN, GRACE_NO_SLACK] }),
    );

    const runbook = runbookDetails();
    expect(body.split("\n").slice(0, 14)).toEqual([
      "CRITICAL: GPU 3 memory above 95% on trainer-7",
      "",
      "A critical incident for team ml-training needs you (escalation level 1).",
      "",
      "What:     GPU 3 memory above 95% on trainer-7",
      "Details:  Memory used 97.4% for 10m",
      "Severity: critical",
      "Team:     ml-training",
      "Status:   triggered, escalation level 1",
      "Started:  2026-11-30T09:00:00.000Z",
      "Incident: inc-20261130-0001",
      "Paged:    Dmitri Volkov <dmitri@example.com>, Erin Walsh <erin@example.com>, Grace Okafor",
      "",
      "Labels",
    ]);
    expect(body).toContain("  alertname: GPUMemoryPressure\n");
    expect(body).toContain("  model:     llama-70b\n");
    expect(body).toContain(
      [
        "Links",
        "  Alert source: http://prometheus.example:9090/graph?g0.expr=gpu_memory&g0.tab=1",
        "  Dashboard:    https://grafana.example/d/gpu?var-instance=trainer-7",
        "  Silence:      http://alertmanager.example:9093/#/silences/new?filter=%7Balertname%3D%22GPU%22%7D",
        `  Runbook:      ${runbook.url}`,
      ].join("\n"),
    );
  });

  it("carries the whole runbook when paging", () => {
    const runbook = runbookDetails();

    for (const kind of ["trigger", "escalate"] as const) {
      const body = emailBody(notification("email-oncall", { kind, level: 2 }));
      expect(body).toContain(
        `Runbook: GPU Memory Pressure\n${runbook.url}\n\n${runbook.summary}\n`,
      );
      expect(body).toContain(runbook.body.trim());
      for (const section of ["## Symptoms", "## Diagnosis", "## Resolution", "## Post-incident"]) {
        expect(body).toContain(section);
      }
    }
  });

  it("only links the runbook once the incident is acknowledged or resolved", () => {
    const body = emailBody(
      notification("email-oncall", {
        kind: "resolve",
        actor: "alertmanager",
        recipients: [],
        incident: incident({ status: "resolved", resolvedAt: "2026-11-30T09:40:00.000Z" }),
      }),
    );

    expect(body).toContain("Resolved by alertmanager at 2026-11-30T09:40:00.000Z.");
    expect(body).toContain(`  Runbook:      ${runbookDetails().url}`);
    expect(body).not.toContain("## Diagnosis");
    expect(body).not.toContain("Paged:");
  });

  it("stays within SNS's message size", () => {
    const huge = { ...runbookDetails(), body: "x".repeat(400 * 1024) };

    const body = emailBody(notification("email-oncall", { runbook: huge }));

    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(256 * 1024);
    expect(body).toMatch(/\[cut to fit an email; read the rest at https:\/\/\S+\]\n$/);
  });
});
