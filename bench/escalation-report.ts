import type { EscalationRun, LevelPunctuality, Spread } from "./escalation.js";

export interface EscalationResult {
  /** USD per 1,000 state transitions, Standard workflows. */
  pricePer1000Transitions: number;
  region: string;
  cpus: number;
  runs: EscalationRun[];
}

const ms = (n: number) => n.toFixed(0);
const usd = (n: number) => `$${Number(n.toPrecision(3))}`;
const pair = (s: Spread | null, bold = false) =>
  s ? `${bold ? `**${ms(s.median)}**` : ms(s.median)} / ${ms(s.max)}` : "–";

function levelRow(run: EscalationRun, p: LevelPunctuality): string {
  const wait = p.waitOverrunMs
    ? `${p.waitSeconds.join(" or ")} s + ${pair(p.waitOverrunMs)}`
    : "– (none before level 1)";
  const cells = [
    `×${run.timeScale}`,
    `${p.level} (${p.offsetMinutes} min → ${ms(p.dueAfterMs)} ms)`,
    p.samples,
    pair(p.paged, true),
    pair(p.recorded),
    pair(p.decided),
    pair(p.taskMs),
    wait,
  ];
  return `| ${cells.join(" | ")} |`;
}

/** The two escalation sections of the bench report (timed escalation, issue part 7). */
export function escalationMarkdown(result: EscalationResult): string {
  const { runs } = result;
  const first = runs[0];
  if (!first) return "";
  const price = `$${result.pricePer1000Transitions} per 1,000 state transitions (Standard, ${result.region})`;
  const costRows = runs.flatMap((run) => {
    const e = run.escalating;
    const r = run.resolvedAtOnce;
    const s = e.statesPerIncident;
    return [
      `| critical, untouched: levels 1-4 at 0/15/30/60 min, then exhausted (${run.incidents} incidents) | ×${run.timeScale} | ${s.min} / ${s.median} / ${s.max}${e.identical ? " (identical)" : " (**differ**)"} | **${e.transitions}** | ${usd(e.usdPerIncident)} | **${usd(e.usdPer1000Incidents)}** |`,
      `| critical, resolved after its first page: escalation (aborted in its first Wait) + mirror | ×${run.timeScale} | ${r.escalationStates.length} + ${r.mirrorStates.length} | **${r.transitions}** | ${usd(r.usdPerIncident)} | **${usd(r.usdPer1000Incidents)}** |`,
    ];
  });
  const byType = Object.entries(first.escalating.byType)
    .map(([type, n]) => `${type} ${n}`)
    .join(", ");
  const load = runs
    .map(
      (r) =>
        `×${r.timeScale}: ${r.loadAverage.before.toFixed(1)} → ${r.loadAverage.after.toFixed(1)}`,
    )
    .join("; ");
  const anomalies = runs.flatMap((run) => run.anomalies);
  const choices = first.escalating.choiceStates.map((name) => `"${name}"`).join(", ");
  return [
    `### Escalation: Step Functions state transitions at ${price}`,
    "",
    "| escalation (shipped tocsin.yaml, team ml-training, fake Slack and PagerDuty) | time scale | states entered per incident (min / median / max) | billable transitions | per incident | per 1,000 incidents |",
    "|---|---|---|---|---|---|",
    ...costRows,
    "",
    `States of an untouched escalation: ${first.escalating.states.join(" → ")} (${byType}). Resolved after the first page: ${first.resolvedAtOnce.escalationStates.join(" → ")}, aborted by the resolve; then the mirror execution ${first.resolvedAtOnce.mirrorStates.join(" → ")} (PagerDuty resolve, Slack message updated).`,
    "",
    `Counting: Standard workflows bill a state transition each time a step of the workflow is executed, retries included. So every state an execution enters counts once: Tasks, the Choice states (${choices}), each Wait however long it waits (a 30-minute Wait is one transition) and the final Succeed; starting an execution is not a state, and stopping one adds nothing. The counts come from the local engine's StateEntered events (onStateEntered), which run the same definition as AWS. A Task retry (Lambda error or throttle) would add one transition per attempt: none happened here (no execution entered its failure path, no delivery failed). Not included: the 4,000 free transitions a month, and the Lambda invocations behind the Tasks (4 per untouched incident, 2 per resolved one), DynamoDB and SNS.`,
    "",
    "### Escalation punctuality on the local engine (ms late against createdAt + level offset / time scale)",
    "",
    "| time scale | level (offset → due) | incidents | **paged**: PagerDuty fake received it (median / max) | recorded: `notified` event (median / max) | decided: `escalated` event (median / max) | its Escalate Task, ms (median / max) | Wait before it: whole s + ms (median / max) |",
    "|---|---|---|---|---|---|---|---|",
    ...runs.flatMap((run) => run.punctuality.map((p) => levelRow(run, p))),
    "",
    `What this measures: the local engine and the escalation handler on this machine, not AWS. The incidents of a run fire at once and share one event loop with the fakes and dynalite (${result.cpus} CPUs; 1-minute load average ${load}). Level 1 is due the moment the incident is created: its lateness is the rest of the webhook request, starting the execution, and the first Escalate Task up to its PagerDuty request (DynamoDB get and claim, rendering, the HTTPS call). For later levels the Wait lasts until the level is due (TimestampPath $.dueAt, computed from the incident's creation), so the time a step spends notifying does not push the next level later, and there is no rounding to whole seconds: a later level's lateness is the Escalate Task's own work up to its PagerDuty request, and no level should fire early (checked below). On AWS the same holds; Lambda cold starts and Step Functions' own Wait precision are not measured here.`,
    "",
    anomalies.length
      ? `Escalation anomalies (${anomalies.length}):\n${anomalies.map((a) => `- ${a}`).join("\n")}`
      : "Escalation anomalies: none (identical states per incident, no Fail or Record failure state, each level paged exactly once and never early, levels 2-4 escalated and the policy exhausted once, no failed delivery, the resolved incident paged once, resolved in PagerDuty and never escalated).",
  ].join("\n");
}
