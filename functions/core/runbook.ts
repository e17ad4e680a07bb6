import * as z from "zod/mini";
import { type Labels, labelValue, SEVERITIES } from "./alert.js";
import { InvalidConfigError } from "./errors.js";
import type { Runbook } from "./incident.js";
import { type Matcher, matchesAll, parseMatcher } from "./matchers.js";
import type { RunbookDetails } from "./notification.js";
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

/**
 * A runbook placeholder: `$` and a label name in lower case (`$run`, `$model`, `$instance`).
 * Upper-case names (`$LOG_DIR`), `${…}`, `$(…)` and `$1` stay shell syntax and are never filled.
 */
const PLACEHOLDER = /(?<![\w$])\$([a-z][a-z0-9_]*)\b/g;

/** The label names a runbook text uses as placeholders, each once, in order of appearance. */
export function runbookPlaceholders(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}

/**
 * Fills each `$label` placeholder with the alert's value of that label. A placeholder whose
 * label the alert lacks (or has empty) stays as written, so a reader sees what to look up
 * rather than a silent blank. The result is plain text: each notifier escapes it for its medium.
 */
export function fillPlaceholders(text: string, labels: Labels): string {
  return text.replace(
    PLACEHOLDER,
    (placeholder, name: string) => labelValue(labels, name) || placeholder,
  );
}

/**
 * The runbook of an incident, its summary, diagnosis steps and body filled in with the
 * incident's labels, as notifications and the incident page show it. Found by its link,
 * which names the file; an annotation's runbook has no file behind it, so none.
 */
export function filledRunbook(
  runbooks: readonly RunbookDefinition[],
  baseUrl: string,
  incident: { runbook: Runbook | null; labels: Labels },
): RunbookDetails | null {
  const runbook = incident.runbook;
  if (!runbook) return null;
  const definition = runbooks.find((r) => runbookUrl(r, baseUrl) === runbook.url);
  if (!definition) return null;
  const fill = (text: string) => fillPlaceholders(text, incident.labels);
  return {
    ...runbook,
    summary: fill(definition.summary),
    diagnosis: definition.diagnosis.map(fill),
    body: fill(definition.body),
  };
}
