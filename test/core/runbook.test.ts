import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadRunbooks } from "../../functions/adapters/runbook-files.js";
import { findRunbook } from "../../functions/core/runbook.js";
import { parseRunbook } from "../../functions/core/yaml-files.js";

const runbooksDir = new URL("../../runbooks/", import.meta.url).pathname;
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

  it("ships one runbook for each of the 16 ML alerts", () => {
    const names = loadRunbooks(runbooksDir).flatMap((r) =>
      r.matchers.filter((m) => m.name === "alertname").map((m) => m.value),
    );
    expect(names.sort()).toEqual(
      [
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
      ].sort(),
    );
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
