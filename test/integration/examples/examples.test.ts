import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";

const RULES_DIR = new URL("../../../examples/prometheus/", import.meta.url).pathname;
const tools = ["promtool", "amtool"];
const missing = tools.filter((tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0);

if (missing.length > 0 && !process.env.CI) {
  console.warn(
    `skipping the examples check: ${missing.join(", ")} missing (apt-get install prometheus prometheus-alertmanager)`,
  );
}

describe.skipIf(missing.length > 0 && !process.env.CI)("examples/", () => {
  it("rules pass promtool check and their unit tests; the Alertmanager config passes amtool", () => {
    expect(missing, "install them: apt-get install prometheus prometheus-alertmanager").toEqual([]);
    const output = execFileSync("bash", ["examples/check.sh"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    // Every rules file is checked and every unit test file passes.
    const found = [...output.matchAll(/SUCCESS: (\d+) rules found/g)].map((m) => Number(m[1]));
    expect(found.length).toBe(
      readdirSync(RULES_DIR).filter((f) => f.endsWith(".rules.yml")).length,
    );
    const testFiles = readdirSync(RULES_DIR).filter((f) => f.endsWith(".test.yml"));
    for (const file of testFiles) {
      expect(output).toMatch(new RegExp(`Unit Testing:  ${file.replace(".", "\\.")}\\n  SUCCESS`));
    }
    expect(output).toMatch(/all example checks passed/);
    // promtool evaluates every rule once a minute over a day of baselines: tens of seconds.
  }, 240_000);
});
