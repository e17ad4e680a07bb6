import { SEVERITIES, type Severity } from "./alert.js";

/** Synonyms senders use for our four severities (Alertmanager, Grafana, PagerDuty, syslog habits). */
const SYNONYMS: ReadonlyMap<string, Severity> = new Map(
  Object.entries({
    critical: "critical",
    crit: "critical",
    page: "critical",
    p1: "critical",
    sev1: "critical",
    emergency: "critical",
    fatal: "critical",
    high: "high",
    error: "high",
    err: "high",
    major: "high",
    p2: "high",
    sev2: "high",
    warning: "warning",
    warn: "warning",
    minor: "warning",
    medium: "warning",
    p3: "warning",
    sev3: "warning",
    info: "info",
    informational: "info",
    low: "info",
    none: "info",
    notice: "info",
    p4: "info",
    p5: "info",
    sev4: "info",
  } satisfies Record<string, Severity>),
);

export function isSeverity(value: string): value is Severity {
  return (SEVERITIES as readonly string[]).includes(value);
}

/**
 * Maps a `severity` label value to one of ours; unknown or missing values get `fallback`.
 * A Map, not an object: `constructor` or `__proto__` is an unknown severity, not Object's.
 */
export function normalizeSeverity(value: string | undefined, fallback: Severity): Severity {
  if (value === undefined) return fallback;
  return SYNONYMS.get(value.trim().toLowerCase()) ?? fallback;
}
