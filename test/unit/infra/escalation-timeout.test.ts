import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../functions/core/yaml-files.js";
import { ESCALATION_TIMEOUT, taskWorstCaseSeconds } from "../../../lib/constructs/escalation.js";
import { PROJECT_ROOT } from "../../../lib/constructs/tocsin-function.js";
import {
  assertEscalationsFitTimeout,
  longestEscalationSeconds,
} from "../../../lib/escalation-timeout.js";

const HOUR = 3600;
/** The longest snooze Slack offers (SNOOZE_CHOICES): a resumed execution waits it first. */
const SNOOZE = 4 * HOUR;
/** How long the last level's failed page is tried again (LATER_ATTEMPTS.giveUpAfterMs). */
const RETRIES = 4 * HOUR;
/**
 * The last try of a step that keeps failing, at the policy's end: 5 attempts of 60 s and
 * 2 + 4 + 8 + 16 s between them, then the failure's record, which may take as long.
 */
const LAST_TRY = 2 * (5 * 60 + 30);

/** A config with one policy paging channel `ops` at each `after`, and the given delays. */
function configWith(options: {
  afters: string[];
  repeat?: number;
  highDelay?: string;
  routeDelay?: string;
}) {
  const levels = options.afters
    .map((after) => `      - { after: ${after}, targets: [{ channel: ops }] }`)
    .join("\n");
  return parseConfig(`
channels:
  ops: { type: email, address: ops@example.com }
escalationPolicies:
  only:
    repeat: ${options.repeat ?? 0}
    levels:
${levels}
severities:
  critical: { escalation: only }
  high: { escalation: only, delay: ${options.highDelay ?? 0} }
  warning: {}
  info: {}
${options.routeDelay ? `route: { routes: [{ matchers: [team="a"], delay: ${options.routeDelay} }] }` : ""}
`);
}

describe("the longest escalation, which the state machine's timeout must cover", () => {
  it.each([
    ["one level at once", { afters: ["0"] }, 0],
    ["levels at 0 and 30m", { afters: ["0", "30m"] }, 0.5 * HOUR],
    // Repeats are spaced as the levels are: 0, 30m | 1h, 1h30 | 2h, 2h30.
    ["levels at 0 and 30m, twice repeated", { afters: ["0", "30m"], repeat: 2 }, 2.5 * HOUR],
    ["after a severity's delay", { afters: ["0", "30m"], highDelay: "2h" }, 2.5 * HOUR],
    ["after a route's delay", { afters: ["0", "30m"], routeDelay: "3h" }, 3.5 * HOUR],
  ])(
    "%s: its levels plus a snooze, the last page's retries and the last try",
    (_, options, levels) => {
      expect(taskWorstCaseSeconds() * 2).toBe(LAST_TRY);
      expect(longestEscalationSeconds(configWith(options))).toBe(
        levels + SNOOZE + RETRIES + LAST_TRY,
      );
    },
  );

  it("is within a day for the shipped tocsin.yaml: 15m delay, 60m of levels, a 4h snooze, 4h of retries, 11 minutes of a last try", () => {
    const config = parseConfig(readFileSync(join(PROJECT_ROOT, "tocsin.yaml"), "utf8"));
    expect(longestEscalationSeconds(config)).toBe(9.25 * HOUR + LAST_TRY);
    expect(() => assertEscalationsFitTimeout(config)).not.toThrow();
  });

  it("refuses a config whose escalation could outlast the timeout, accepts one that ends on it", () => {
    expect(ESCALATION_TIMEOUT.toSeconds()).toBe(24 * HOUR);
    // 15h49m of levels, a 4h snooze, 4h of retries and 11 minutes of a last try: exactly the timeout.
    expect(() => assertEscalationsFitTimeout(configWith({ afters: ["0", "949m"] }))).not.toThrow();
    expect(() => assertEscalationsFitTimeout(configWith({ afters: ["0", "950m"] }))).toThrow(
      /can run 24 h .* timeout of 24 h/,
    );
    expect(() => assertEscalationsFitTimeout(configWith({ afters: ["0", "17h"] }))).toThrow(
      /can run 25.2 h .* timeout of 24 h/,
    );
  });
});
