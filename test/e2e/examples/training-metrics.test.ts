/**
 * examples/training/tocsin_metrics.py, the training-loop side of the pack's contract, run with
 * Debian's Python and prometheus_client: after a few steps, a checkpoint and an NCCL error it
 * exports every training metric the alerting rules and the dashboards read, each labelled
 * with its run, and its counters exist at 0 before their first increment.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const REPO = fileURLToPath(new URL("../../..", import.meta.url));
const PYTHON = process.env.PYTHON ?? "/usr/bin/python3";
const usable = spawnSync(PYTHON, ["-c", "import prometheus_client"]).status === 0;
if (!usable && !process.env.CI) {
  console.warn(
    `skipping the training metrics example: ${PYTHON} lacks prometheus_client (apt-get install python3-prometheus-client)`,
  );
}

const SCRIPT = `
from prometheus_client import REGISTRY, generate_latest
from tocsin_metrics import TrainingMetrics
m = TrainingMetrics(run="llama3-8b-sft", flops_per_token=6 * 8e9, peak_flops=8 * 989e12)
before = generate_latest(REGISTRY).decode()
for step in range(1, 4):
    m.step(step, loss=2.0 - step / 10, lr=1e-4 * step, lr_scheduled=1e-4 * step, grad_norm=0.7,
           seconds=1.5, tokens=1_048_576, p2p_seconds=0.002,
           phases={"data_load": 0.05, "forward": 0.6, "backward": 0.65, "allreduce": 0.15, "optimizer": 0.05})
m.checkpoint(lambda: 284_000_000_000)
m.nccl_error("remote_error")
print(before)
print("=====")
print(generate_latest(REGISTRY).decode())
`;

/** Series names and labels of a Prometheus text exposition. */
function series(text: string): Array<{ name: string; labels: string; value: number }> {
  return text
    .split("\n")
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line)!;
      return { name: match[1]!, labels: match[2] ?? "", value: Number(match[3]) };
    });
}

/** The training-loop metrics the rules and dashboards read. */
function contract(): Set<string> {
  const texts = [
    ...["ml-alerts", "baselines"].map((f) =>
      readFileSync(join(REPO, `examples/prometheus/${f}.rules.yml`), "utf8"),
    ),
    ...readdirSync(join(REPO, "examples/grafana/dashboards"))
      .filter((f) => f.endsWith(".json"))
      .map((f) => readFileSync(join(REPO, "examples/grafana/dashboards", f), "utf8")),
  ];
  const exprs = texts.flatMap((text) => {
    if (text.trimStart().startsWith("{")) return [text];
    const groups = (parse(text) as { groups: Array<{ rules: Array<{ expr: string }> }> }).groups;
    return groups.flatMap((g) => g.rules.map((r) => r.expr));
  });
  const names = exprs.flatMap((expr) => expr.match(/\btraining_[a-z_]+\b(?!:)/g) ?? []);
  return new Set(names.filter((name) => !/:/.test(name)));
}

describe.skipIf(!usable && !process.env.CI)("examples/training/tocsin_metrics.py", () => {
  it("exports every training metric the rules and dashboards read, labelled with its run", () => {
    expect(
      usable,
      `${PYTHON} with prometheus_client (apt-get install python3-prometheus-client)`,
    ).toBe(true);
    const output = execFileSync(PYTHON, ["-c", SCRIPT], {
      cwd: join(REPO, "examples/training"),
      encoding: "utf8",
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
    });
    const [before, after] = output.split("=====");
    const exported = series(after!);
    const names = new Set(exported.map((s) => s.name));
    const wanted = [...contract()];
    expect(wanted.length).toBeGreaterThan(12);
    for (const name of wanted) {
      const exposed = name.endsWith("_total") || names.has(name) ? name : `${name}_total`;
      expect(names, name).toContain(exposed);
    }
    for (const s of exported.filter((s) => s.name.startsWith("training_"))) {
      expect(s.labels, s.name).toContain('run="llama3-8b-sft"');
    }
    // TrainingRecoverySlow reads the process's start time next to the recovery gauge.
    expect(names).toContain("process_start_time_seconds");
    // The counters are there at 0 before anything happened.
    const zero = series(before!).filter((s) => s.name.endsWith("_total"));
    expect(zero.map((s) => [s.name, s.value])).toEqual(
      expect.arrayContaining([
        ["training_checkpoint_saves_total", 0],
        ["training_checkpoint_save_failures_total", 0],
        ["training_nccl_errors_total", 0],
      ]),
    );
    // The figures are what the loop reported.
    const value = (name: string) => exported.find((s) => s.name === name)?.value;
    expect(value("training_step")).toBe(3);
    expect(value("training_tokens_per_second")).toBeCloseTo(1_048_576 / 1.5);
    expect(value("training_checkpoint_saves_total")).toBe(1);
    expect(value("training_checkpoint_last_size_bytes")).toBe(284_000_000_000);
  });
});
