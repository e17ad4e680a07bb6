import { type Labels, labelValue } from "./alert.js";
import { InvalidConfigError } from "./errors.js";

export type MatchOperator = "=" | "!=" | "=~" | "!~";

export interface Matcher {
  name: string;
  operator: MatchOperator;
  value: string;
  /** Anchored, as Alertmanager anchors regex matchers. */
  regex?: RegExp;
}

const MATCHER =
  /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|([^"\s,{}]*))\s*$/;

/**
 * Parses one Alertmanager-style matcher such as `severity="critical"` or `team=~"ml-.*"`.
 * https://prometheus.io/docs/alerting/latest/configuration/#matcher
 */
export function parseMatcher(text: string): Matcher {
  const match = MATCHER.exec(text);
  if (!match) {
    throw new InvalidConfigError(
      `bad matcher ${JSON.stringify(text)}: expected name="value", name!="value", name=~"regex" or name!~"regex"`,
    );
  }
  const [, name, op, quoted, bare] = match;
  const operator = op as MatchOperator;
  const value = quoted !== undefined ? JSON.parse(`"${quoted}"`) : (bare ?? "");
  if (operator === "=~" || operator === "!~") {
    try {
      return { name: name!, operator, value, regex: new RegExp(`^(?:${value})$`) };
    } catch (error) {
      throw new InvalidConfigError(`bad regular expression in matcher ${JSON.stringify(text)}`, {
        cause: error,
      });
    }
  }
  return { name: name!, operator, value };
}

/** A missing label matches as the empty string, as in Alertmanager. */
export function matches(matcher: Matcher, labels: Labels): boolean {
  const actual = labelValue(labels, matcher.name) ?? "";
  switch (matcher.operator) {
    case "=":
      return actual === matcher.value;
    case "!=":
      return actual !== matcher.value;
    case "=~":
      return matcher.regex!.test(actual);
    case "!~":
      return !matcher.regex!.test(actual);
  }
}

export function matchesAll(matchers: readonly Matcher[], labels: Labels): boolean {
  return matchers.every((matcher) => matches(matcher, labels));
}
