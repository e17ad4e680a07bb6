import { execFileSync, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

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
    expect(output).toMatch(/SUCCESS: 16 rules found/);
    expect(output).toMatch(/all example checks passed/);
  });
});
