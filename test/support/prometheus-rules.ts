import { readFileSync } from "node:fs";
import { parse } from "yaml";
import type { PostableAlert } from "./alertmanager-process.js";

/** An alerting rule of a Prometheus rules file (the fields tests read). */
export interface AlertingRule {
  alert: string;
  expr: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

interface RulesFile {
  groups: Array<{ name: string; rules: Array<Partial<AlertingRule> & { record?: string }> }>;
}

/** The alerting rules of a rules file by alert name; recording rules are left out. */
export function loadAlertingRules(path: string): Map<string, AlertingRule> {
  const file = parse(readFileSync(path, "utf8")) as RulesFile;
  const rules = new Map<string, AlertingRule>();
  for (const rule of file.groups.flatMap((group) => group.rules)) {
    if (!rule.alert || !rule.expr) continue;
    rules.set(rule.alert, {
      alert: rule.alert,
      expr: rule.expr,
      labels: rule.labels ?? {},
      annotations: rule.annotations ?? {},
    });
  }
  return rules;
}

/**
 * What Prometheus posts to Alertmanager when `rule` fires for a series: the series' labels,
 * the rule's labels over them and `alertname`; labels and annotations with `{{ $labels.x }}`,
 * `{{ if $labels.x }}{{ $labels.x }}{{ else }}default{{ end }}` and `{{ $value ... }}` filled in. The value is shown as given (template functions after a
 * pipe are not run); any other template left over is an error, so a test never posts one.
 * https://prometheus.io/docs/prometheus/latest/configuration/template_reference/
 */
export function firingAlert(
  rule: AlertingRule,
  series: Record<string, string>,
  value: string,
  startsAt: string,
): PostableAlert {
  const fill = (name: string, template: string, labels: Record<string, string>) => {
    const text = template
      // `{{ if $labels.x }}{{ $labels.x }}{{ else }}default{{ end }}`: the series' label or a default.
      .replace(
        /\{\{\s*if \$labels\.(\w+)\s*\}\}\{\{\s*\$labels\.\1\s*\}\}\{\{\s*else\s*\}\}([^{]*)\{\{\s*end\s*\}\}/g,
        (_, label: string, fallback: string) => labels[label] || fallback,
      )
      .replace(/\{\{\s*\$labels\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_, label: string) => {
        const found = labels[label];
        if (found === undefined) {
          throw new Error(`${rule.alert}: ${name} uses $labels.${label}, not given`);
        }
        return found;
      })
      .replace(/\{\{\s*\$value\b[^}]*\}\}/g, value);
    if (text.includes("{{")) {
      throw new Error(`${rule.alert}: ${name} has a template this helper cannot fill`);
    }
    return text;
  };
  const ruleLabels = Object.fromEntries(
    Object.entries(rule.labels).map(([name, template]) => [
      name,
      fill(`label ${name}`, template, series),
    ]),
  );
  const labels = { ...series, ...ruleLabels, alertname: rule.alert };
  const annotations = Object.fromEntries(
    Object.entries(rule.annotations).map(([name, template]) => [
      name,
      fill(`annotation ${name}`, template, labels),
    ]),
  );
  return {
    labels,
    annotations,
    startsAt,
    generatorURL: `http://prometheus.example:9090/graph?g0.expr=${encodeURIComponent(rule.expr)}`,
  };
}
