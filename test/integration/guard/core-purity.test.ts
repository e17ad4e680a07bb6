import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The core guard (biome.json's override of functions/core/**, with biome/core-purity.grit)
 * guards: this repository's Biome, run on a copy of its configuration, reports each probe
 * that does a forbidden thing in functions/core, at its line, and nothing for what the core
 * may do; the same probes elsewhere in functions/ are not the guard's business.
 */
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BIOME = join(ROOT, "node_modules", ".bin", "biome");
const GUARD_RULES = ["lint/style/noRestrictedGlobals", "lint/style/noRestrictedImports", "plugin"];

type Rule = "globals" | "imports" | "plugin";
const CATEGORY: Record<Rule, string> = {
  globals: "lint/style/noRestrictedGlobals",
  imports: "lint/style/noRestrictedImports",
  plugin: "plugin",
};

/** [what, source, line of the forbidden thing, the rule that must report it] */
const FORBIDDEN: Array<[string, string, number, Rule]> = [
  ["Date.now()", "export const t = Date.now();", 1, "plugin"],
  ["new Date() without an argument", "export const t = new Date();", 1, "plugin"],
  ["Date() called as a function", "export const t = Date();", 1, "plugin"],
  ["Math.random()", "export const r = Math.random();", 1, "plugin"],
  [
    "luxon's DateTime.now()",
    'import { DateTime } from "luxon";\nexport const t = DateTime.now();',
    2,
    "plugin",
  ],
  [
    "luxon's DateTime.local()",
    'import { DateTime } from "luxon";\nexport const t = DateTime.local();',
    2,
    "plugin",
  ],
  ["import.meta (file paths)", "export const u = import.meta.url;", 1, "plugin"],
  ["process.env", "export const e = process.env.TOCSIN_X;", 1, "globals"],
  ["globalThis.process", "export const e = globalThis.process;", 1, "globals"],
  ["global.process", "export const e = global.process;", 1, "globals"],
  ["setTimeout", "export const t = setTimeout(() => undefined, 1);", 1, "globals"],
  ["setInterval", "export const t = setInterval(() => undefined, 1);", 1, "globals"],
  ["setImmediate", "export const t = setImmediate(() => undefined);", 1, "globals"],
  ["queueMicrotask", "queueMicrotask(() => undefined);", 1, "globals"],
  ["performance.now()", "export const t = performance.now();", 1, "globals"],
  ["fetch", 'export const f = fetch("https://example.com");', 1, "globals"],
  ["crypto", "export const id = crypto.randomUUID();", 1, "globals"],
  ["Buffer", 'export const b = Buffer.from("x");', 1, "globals"],
  ["console", 'console.log("x");', 1, "globals"],
  ["require", 'export const fs = require("node:fs");', 1, "globals"],
  ["node:fs", 'export { readFileSync } from "node:fs";', 1, "imports"],
  ["node:fs/promises", 'export { readFile } from "node:fs/promises";', 1, "imports"],
  ["node:timers/promises", 'export { setTimeout } from "node:timers/promises";', 1, "imports"],
  ["node:crypto", 'export { createHmac } from "node:crypto";', 1, "imports"],
  ["a bare built-in", 'export { join } from "path";', 1, "imports"],
  ["a dynamic import of a built-in", 'export const fs = import("node:fs");', 1, "imports"],
  ["the AWS SDK", 'export { SNSClient } from "@aws-sdk/client-sns";', 1, "imports"],
  ["Powertools", 'export { Logger } from "@aws-lambda-powertools/logger";', 1, "imports"],
  ["an I/O package", 'export { fetch } from "undici";', 1, "imports"],
  ["a concurrency package", 'export { default } from "p-limit";', 1, "imports"],
  ["adapters", 'export { systemClock } from "../adapters/clock.js";', 1, "imports"],
  [
    "integrations",
    'export { verifySlackSignature } from "../integrations/slack/signature.js";',
    1,
    "imports",
  ],
  ["delivery", 'export { sendAll } from "../delivery/pipeline.js";', 1, "imports"],
  ["escalation", 'export { runEscalationStep } from "../escalation/step.js";', 1, "imports"],
  ["app", 'export { noTelemetry } from "../app/telemetry.js";', 1, "imports"],
  ["api", 'export { readApi } from "../api/read-api.js";', 1, "imports"],
  ["pages", 'export * from "../pages/history.js";', 1, "imports"],
  ["entry", 'export * from "../entry/compose.js";', 1, "imports"],
  ["local", 'export * from "../local/server.js";', 1, "imports"],
  ["lib", 'export * from "../../lib/escalation-timeout.js";', 1, "imports"],
];

/** What the core does and may go on doing: none of it is reported. */
const ALLOWED = `import { DateTime } from "luxon";
import { parse } from "yaml";
import * as z from "zod/mini";
import type { Alert } from "./alert.js";
import { parseDuration } from "./duration.js";

export const schema = z.string();
export const parsed = parse("a: 1");
export const at = (now: Date, alert: Alert) => new Date(now.getTime() + (parseDuration(alert.fingerprint) ?? 0));
export const when = new Date("2026-12-02T09:00:00Z");
export const ms = Date.parse("2026-12-02T09:00:00Z") + Date.UTC(2026, 11, 2);
export const most = Math.max(1, 2) + Math.floor(1.5);
export const zoned = DateTime.fromISO("2026-12-02T09:00:00Z", { zone: "Europe/Berlin" });
export const bytes = new TextEncoder().encode("x");
export const copy = structuredClone({ a: 1 });
`;

interface Finding {
  category: string;
  file: string;
  line: number;
  message: string;
}

/** Biome's findings of the guard's rules, by file relative to `dir` (GitHub's annotation format). */
function guardFindings(dir: string, target: string): Finding[] {
  const run = spawnSync(
    BIOME,
    ["lint", "--vcs-enabled=false", "--reporter=github", "--max-diagnostics=none", target],
    { cwd: dir, encoding: "utf8" },
  );
  if (run.error) throw run.error;
  const findings: Finding[] = [];
  for (const line of run.stdout.split("\n")) {
    const m = /^::(?:error|warning|notice) title=([^,]+),file=([^,]+),line=(\d+),.*?::(.*)$/.exec(
      line,
    );
    if (m)
      findings.push({
        category: m[1]!,
        file: m[2]!.slice(dir.length + 1),
        line: Number(m[3]),
        message: m[4]!,
      });
  }
  // A configuration Biome refuses (a plugin that does not load) is not a clean run.
  expect(run.stderr).not.toMatch(/configuration|plugin/i);
  return findings.filter((f) => GUARD_RULES.includes(f.category));
}

let dir: string;
let findings: Finding[];
const probe = (folder: string, i: number) =>
  `functions/${folder}/probe-${String(i).padStart(2, "0")}.ts`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tocsin-guard-"));
  cpSync(join(ROOT, "biome.json"), join(dir, "biome.json"));
  cpSync(join(ROOT, "biome"), join(dir, "biome"), { recursive: true });
  for (const folder of ["core", "app"])
    mkdirSync(join(dir, "functions", folder), { recursive: true });
  FORBIDDEN.forEach(([, source], i) => {
    writeFileSync(join(dir, probe("core", i)), `${source}\n`);
    writeFileSync(join(dir, probe("app", i)), `${source}\n`);
  });
  writeFileSync(join(dir, "functions/core/allowed.ts"), ALLOWED);
  findings = guardFindings(dir, "functions");
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("the core guard", () => {
  it.each(FORBIDDEN.map((row, i) => [...row, i] as const))(
    "refuses %s in functions/core",
    (_what, _source, line, rule, i) => {
      const here = findings.filter((f) => f.file === probe("core", i));
      expect(here.map((f) => [f.category, f.line])).toEqual([[CATEGORY[rule], line]]);
      // Biome words the globals' finding itself ("Do not use the global variable …");
      // the imports' and the plugin's say why, and where the thing belongs.
      expect(here[0]!.message).toMatch(rule === "globals" ? /global variable/ : /core/i);
    },
  );

  it("lets the core use pure time arithmetic, its own files and its pure libraries", () => {
    expect(findings.filter((f) => f.file === "functions/core/allowed.ts")).toEqual([]);
  });

  it("guards the core only: the same probes in functions/app are not reported by it", () => {
    expect(findings.filter((f) => f.file.startsWith("functions/app/"))).toEqual([]);
  });

  it("still names the folder the core lives in, and its plugin file exists", () => {
    const config = JSON.parse(readFileSync(join(ROOT, "biome.json"), "utf8")) as {
      overrides: Array<{
        includes?: string[];
        plugins?: string[];
        linter?: { rules?: { style?: Record<string, { level: string }> } };
      }>;
    };
    const guard = config.overrides.filter((o) => o.plugins?.includes("./biome/core-purity.grit"));
    expect(guard).toHaveLength(1);
    const [override] = guard;
    expect(override!.includes).toEqual(["functions/core/**"]);
    expect(existsSync(join(ROOT, "biome/core-purity.grit"))).toBe(true);
    const core = join(ROOT, "functions/core");
    expect(readdirSync(core).filter((f) => f.endsWith(".ts")).length).toBeGreaterThan(10);
    expect(override!.linter?.rules?.style?.noRestrictedGlobals?.level).toBe("error");
    expect(override!.linter?.rules?.style?.noRestrictedImports?.level).toBe("error");
  });

  it("passes on the core as it is today", () => {
    expect(guardFindings(ROOT, "functions/core")).toEqual([]);
  });
});
