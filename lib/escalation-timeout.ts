import { scaledAfter } from "../functions/core/clock.js";
import type { Config, RouteNode } from "../functions/core/config.js";
import { LATER_ATTEMPTS } from "../functions/core/delivery-retry.js";
import { parseDuration } from "../functions/core/duration.js";
import { planEscalationStep } from "../functions/core/escalation.js";
import { openIncident, SNOOZE_CHOICES } from "../functions/core/incident.js";
import { ESCALATION_TIMEOUT, taskWorstCaseSeconds } from "./constructs/escalation.js";

function routeDelays(node: RouteNode | undefined): number[] {
  if (!node) return [];
  return [...(node.delay === undefined ? [] : [node.delay]), ...node.routes.flatMap(routeDelays)];
}

/** Seconds from the start of an escalation to its last level, by the core's own schedule. */
function span(config: Config, policy: string, delay: number): number {
  const start = new Date(0);
  const incident = openIncident({
    id: "longest",
    alert: {
      source: "alertmanager",
      status: "firing",
      fingerprint: "longest",
      labels: {},
      annotations: {},
      startsAt: start.toISOString(),
      endsAt: null,
      generatorUrl: null,
      dashboardUrl: null,
      silenceUrl: null,
      values: null,
      valueText: null,
      imageUrl: null,
      ruleId: null,
    },
    routing: {
      team: config.defaults.team,
      severity: "critical",
      channels: [],
      escalation: policy,
      delay,
      matchedRoutes: [],
    },
    runbook: null,
    now: start.toISOString(),
  });
  let now = start;
  let step = 0;
  for (;;) {
    const { next } = planEscalationStep(incident, step, { config, now, after: scaledAfter(1) });
    if (!next) return (now.getTime() - start.getTime()) / 1000;
    now = new Date(next.dueAt);
    step = next.step;
  }
}

/**
 * The longest an escalation execution can run under `config`, in seconds: the longest
 * policy after the longest delay any route or severity sets, plus the longest snooze (an
 * execution that resumes a snooze waits it out first, then runs at most the rest), plus
 * the time a failed page of the last level is tried again before it is given up (a step
 * that keeps failing is tried again until then too: escalationEndsAt), plus the last try
 * itself, which may fail after all its Task's attempts and then be recorded.
 */
export function longestEscalationSeconds(config: Config): number {
  const delays = [
    0,
    ...Object.values(config.severities).map((severity) => severity.delay),
    ...routeDelays(config.route),
  ];
  const delay = Math.max(...delays);
  const snooze = Math.max(...SNOOZE_CHOICES.map((choice) => parseDuration(choice) ?? 0));
  const spans = Object.keys(config.escalationPolicies).map((policy) => span(config, policy, delay));
  const lastTry = 2 * taskWorstCaseSeconds();
  return Math.max(0, ...spans) + snooze + LATER_ATTEMPTS.giveUpAfterMs / 1000 + lastTry;
}

/** Refuses a config whose escalations could outlast ESCALATION_TIMEOUT and be cut short. */
export function assertEscalationsFitTimeout(config: Config): void {
  const longest = longestEscalationSeconds(config);
  const timeout = ESCALATION_TIMEOUT.toSeconds();
  if (longest > timeout) {
    const hours = (seconds: number) => `${Math.round((seconds / 3600) * 10) / 10} h`;
    throw new Error(
      `an escalation can run ${hours(longest)} (the longest policy after the longest delay, ` +
        `plus a snooze, the retries of a failed page and the last try), longer than the state machine's timeout of ${hours(timeout)}: ` +
        "shorten the policy in tocsin.yaml or raise ESCALATION_TIMEOUT (lib/constructs/escalation.ts)",
    );
  }
}
