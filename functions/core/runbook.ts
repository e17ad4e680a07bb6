import * as z from "zod/mini";
import { type Labels, SEVERITIES } from "./alert.js";
import { InvalidConfigError } from "./errors.js";
import type { Runbook } from "./incident.js";
import { type Matcher, matchesAll, parseMatcher } from "./matchers.js";
import { issuePath, validate } from "./validation.js";

/** A runbook file from runbooks/, parsed: which alerts it serves and what to do. */
export interface RunbookDefinition {
  /** File name, e.g. `training-nan-loss.md`. */
  file: string;
  title: string;
  matchers: Matcher[];
  severity: (typeof SEVERITIES)[number];
  team: string;
  summary: string;
  /** The numbered steps of its Diagnosis section, in order. */
  diagnosis: string[];
  /** The Markdown after the front matter. */
  body: string;
}

const REQUIRED_SECTIONS = ["Symptoms", "Diagnosis", "Resolution", "Post-incident"];

const text = z.string().check(z.minLength(1));
const frontMatterSchema = z.strictObject({
  title: text,
  alerts: z.array(z.string()).check(z.minLength(1, "list at least one matcher")),
  severity: z.enum(SEVERITIES),
  team: text,
  summary: text,
});

/**
 * A runbook file split and its front matter parsed, not yet validated: what
 * yaml-files.ts reads from Markdown, and what a Lambda bundle carries as JSON.
 */
export interface RunbookSource {
  file: string;
  frontMatter: unknown;
  /** The Markdown after the front matter. */
  body: string;
}

/**
 * Validates a runbook: front matter (title, alerts as Alertmanager matchers, severity,
 * team, summary) and a body with the sections Symptoms, Diagnosis (numbered steps),
 * Resolution and Post-incident. Throws InvalidConfigError naming the file and the problem.
 */
export function validateRunbook({ file, frontMatter, body }: RunbookSource): RunbookDefinition {
  const fail = (message: string): never => {
    throw new InvalidConfigError(`runbooks/${file}: ${message}`);
  };
  const result = validate(frontMatterSchema, frontMatter);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    return fail(`front matter ${issuePath(issue.path)}: ${issue.message}`);
  }
  const headings = [...body.matchAll(/^## (.+)$/gm)].map((m) => m[1]!.trim());
  const missing = REQUIRED_SECTIONS.filter((section) => !headings.includes(section));
  if (missing.length > 0) fail(`missing section(s): ${missing.join(", ")}`);
  const matchers = result.data.alerts.map((text, i) => {
    try {
      return parseMatcher(text);
    } catch (error) {
      return fail(`front matter alerts.${i}: ${(error as Error).message}`);
    }
  });
  const diagnosisSection = body.split(/^## Diagnosis\s*$/m)[1]!.split(/^## /m)[0]!;
  const diagnosis = [...diagnosisSection.matchAll(/^\d+\.\s+(.+)$/gm)].map((m) => m[1]!.trim());
  if (diagnosis.length === 0) fail("the Diagnosis section has no numbered steps");
  return { file, ...result.data, matchers, diagnosis, body };
}

/** Where a runbook is read: `baseUrl` is, for example, the repository's web view of runbooks/. */
export function runbookUrl(definition: RunbookDefinition, baseUrl: string): string {
  return `${baseUrl.replace(/\/?$/, "/")}${definition.file}`;
}

/**
 * The runbook for an alert: the first runbook whose matchers all fit its labels, else
 * its `runbook_url` annotation, else none.
 */
export function findRunbook(
  runbooks: readonly RunbookDefinition[],
  baseUrl: string,
  alert: { labels: Labels; annotations: Labels },
): Runbook | null {
  const definition = runbooks.find((runbook) => matchesAll(runbook.matchers, alert.labels));
  if (definition) return { name: definition.title, url: runbookUrl(definition, baseUrl) };
  const url = alert.annotations.runbook_url || alert.annotations.runbook;
  if (url && /^https?:\/\//.test(url)) return { name: alert.labels.alertname ?? "runbook", url };
  return null;
}
