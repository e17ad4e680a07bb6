import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadRunbooks } from "../../../functions/adapters/runbook-files.js";
import { matchesAll } from "../../../functions/core/matchers.js";
import {
  filledRunbook,
  fillPlaceholders,
  findRunbook,
  runbookPlaceholders,
} from "../../../functions/core/runbook.js";
import { parseRunbook } from "../../../functions/core/yaml-files.js";

const runbooksDir = new URL("../../../runbooks/", import.meta.url).pathname;
const BASE = "https://git.example/tocsin/runbooks";

const valid = `---
title: NaN Loss
alerts:
  - alertname="TrainingNaNLoss"
  - team=~"ml-.*"
severity: critical
team: ml-training
summary: Loss is NaN.
---
# NaN Loss
## Symptoms
Loss is NaN.
## Diagnosis
1. Stop the run.
2. Find the first bad step.
3. Read the logs.
## Resolution
Roll back.
## Post-incident
Write it up.
`;

describe("runbook files", () => {
  const shipped = readdirSync(runbooksDir).filter((file) => file.endsWith(".md"));

  it.each(shipped)("%s has valid front matter and the four sections", (file) => {
    const runbook = parseRunbook(file, readFileSync(`${runbooksDir}${file}`, "utf8"));
    expect(runbook.diagnosis.length).toBeGreaterThanOrEqual(3);
    expect(runbook.matchers.length).toBeGreaterThan(0);
  });

  it("ships a runbook for each of the brief's 16 alerts", () => {
    const shipped = loadRunbooks(runbooksDir);
    const served = (alertname: string) =>
      shipped.filter((r) =>
        matchesAll(
          r.matchers.filter((m) => m.name === "alertname"),
          { alertname },
        ),
      );
    for (const alertname of [
      "TrainingStalled",
      "TrainingNaNLoss",
      "TrainingLowMFU",
      "TrainingCheckpointFailed",
      "GPUTemperatureHigh",
      "GPUMemoryPressure",
      "NCCLTimeout",
      "GradientExplosion",
      "InferenceHighLatency",
      "InferenceErrorSpike",
      "InferenceInstanceDown",
      "InferenceAllInstancesDown",
      "InferenceQueueBackup",
      "KVCacheFull",
      "PreemptionStorm",
      "RateLimitSpike",
    ]) {
      expect(
        served(alertname).map((r) => r.file),
        alertname,
      ).toHaveLength(1);
    }
  });

  it("reads the diagnosis steps in order", () => {
    expect(parseRunbook("nan.md", valid).diagnosis).toEqual([
      "Stop the run.",
      "Find the first bad step.",
      "Read the logs.",
    ]);
  });

  const broken: Array<[string, string, RegExp]> = [
    [
      "no front matter",
      valid.replace(/^---[\s\S]*?---\n/, ""),
      /runbooks\/bad\.md: no front matter/,
    ],
    [
      "a bad severity",
      valid.replace("severity: critical", "severity: urgent"),
      /runbooks\/bad\.md: front matter severity/,
    ],
    [
      "no alerts",
      valid.replace(/alerts:\n( {2}- .*\n)+/, "alerts: []\n"),
      /front matter alerts: list at least one/,
    ],
    [
      "a bad matcher",
      valid.replace('alertname="TrainingNaNLoss"', "alertname~TrainingNaNLoss"),
      /front matter alerts\.0: bad matcher/,
    ],
    [
      "an unknown field",
      valid.replace("team: ml-training", "team: ml-training\nowner: bob"),
      /front matter/,
    ],
    [
      "a missing section",
      valid.replace("## Post-incident", "## Afterwards"),
      /missing section\(s\): Post-incident/,
    ],
    [
      "no numbered diagnosis",
      valid.replace(/1\. Stop the run\.\n2\. .*\n3\. .*\n/, "Look around.\n"),
      /no numbered steps/,
    ],
  ];
  it.each(broken)("refuses a runbook with %s, naming the file", (_name, text, message) => {
    expect(() => parseRunbook("bad.md", text)).toThrow(message);
  });
});

describe("finding an alert's runbook", () => {
  const runbooks = [parseRunbook("training-nan-loss.md", valid)];
  const cases: Array<[string, Record<string, string>, Record<string, string>, unknown]> = [
    [
      "all matchers fit",
      { alertname: "TrainingNaNLoss", team: "ml-training" },
      {},
      { name: "NaN Loss", url: `${BASE}/training-nan-loss.md` },
    ],
    [
      "one matcher does not fit: the annotation",
      { alertname: "TrainingNaNLoss", team: "web" },
      { runbook_url: "https://wiki.example/nan" },
      { name: "TrainingNaNLoss", url: "https://wiki.example/nan" },
    ],
    ["no runbook and no annotation", { alertname: "Other" }, {}, null],
    [
      "an annotation that is not a link",
      { alertname: "Other" },
      { runbook_url: "javascript:alert(1)" },
      null,
    ],
  ];
  it.each(cases)("%s", (_name, labels, annotations, expected) => {
    expect(findRunbook(runbooks, BASE, { labels, annotations })).toEqual(expected);
  });
});

describe("runbook placeholders", () => {
  const braces = (name: string) => `$${"{"}${name}}`; // a shell's \${name}, never filled
  const labels = { run: "llama3-70b-pretrain", instance: "trainer-0:9100", empty: "" };
  const cases: Array<[string, string, string]> = [
    [
      "a label",
      'graph `training_loss{run="$run"}`',
      'graph `training_loss{run="llama3-70b-pretrain"}`',
    ],
    ["two labels", "$run on $instance.", "llama3-70b-pretrain on trainer-0:9100."],
    ["an absent label stays visible", "check $pod of $run", "check $pod of llama3-70b-pretrain"],
    ["an empty label stays visible", "the $empty one", "the $empty one"],
    [
      "shell variables stay",
      `grep x $LOG_DIR/rank*.log ${braces("run")} $(date) $1`,
      `grep x $LOG_DIR/rank*.log ${braces("run")} $(date) $1`,
    ],
    ["a longer name is its own label", "$run_id and $runs", "$run_id and $runs"],
    ["a `$` inside a word is not one", "US$run a$run", "US$run a$run"],
  ];
  it.each(cases)("fills %s", (_name, text, expected) => {
    expect(fillPlaceholders(text, labels)).toBe(expected);
  });

  it("lists each placeholder once, shell syntax left out", () => {
    expect(runbookPlaceholders(`$run, $instance, $run, $LOG_DIR, ${braces("x")}, $(y)`)).toEqual([
      "run",
      "instance",
    ]);
  });

  const withPlaceholders = parseRunbook(
    "training-nan-loss.md",
    valid
      .replace("summary: Loss is NaN.", "summary: Loss of $run is NaN.")
      .replace("1. Stop the run.", "1. Stop $run on $instance.")
      .replace("Roll back.", "Roll $run back to the checkpoint of $pod."),
  );

  it("fills the summary, the steps and the body of an incident's runbook", () => {
    const runbook = { name: "NaN Loss", url: `${BASE}/training-nan-loss.md` };
    const filled = filledRunbook([withPlaceholders], BASE, { runbook, labels });
    expect(filled).toMatchObject({
      ...runbook,
      summary: "Loss of llama3-70b-pretrain is NaN.",
      diagnosis: [
        "Stop llama3-70b-pretrain on trainer-0:9100.",
        "Find the first bad step.",
        "Read the logs.",
      ],
    });
    expect(filled?.body).toContain("Roll llama3-70b-pretrain back to the checkpoint of $pod.");
  });

  it("has nothing to fill for a runbook known only by its link, or none", () => {
    const elsewhere = { name: "wiki", url: "https://wiki.example/nan" };
    expect(filledRunbook([withPlaceholders], BASE, { runbook: elsewhere, labels })).toBeNull();
    expect(filledRunbook([withPlaceholders], BASE, { runbook: null, labels })).toBeNull();
  });
});
