import { DateTime, IANAZone } from "luxon";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { z } from "zod";
import { SEVERITIES, type Severity } from "./alert.js";
import { parseDuration } from "./duration.js";
import { InvalidConfigError } from "./errors.js";
import { type Matcher, parseMatcher } from "./matchers.js";

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]*$/, "use lowercase letters, digits, '-', '_' or '.'");
const duration = z.union([z.string(), z.literal(0)]).transform((value, ctx) => {
  const seconds = parseDuration(String(value));
  if (seconds === null) {
    ctx.addIssue({
      code: "custom",
      message: `not a duration: ${JSON.stringify(value)} (use 0, 30s, 15m, 1h, 1d, 1w)`,
    });
    return z.NEVER;
  }
  return seconds;
});
const matcher = z.string().transform((text, ctx): Matcher => {
  try {
    return parseMatcher(text);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
    return z.NEVER;
  }
});

const channelSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("pagerduty"), routingKeyEnv: z.string().optional() }),
  z.strictObject({
    type: z.literal("slack"),
    channel: z
      .string()
      .regex(/^[#@]?[\w.-]+$/, "a Slack channel such as #incidents or an id such as C0123"),
  }),
  z.strictObject({ type: z.literal("email"), address: z.email() }),
]);

const userSchema = z.strictObject({
  name: z.string().min(1),
  email: z.email().optional(),
  slack: z
    .string()
    .regex(/^[UW][A-Z0-9]+$/, "a Slack user id such as U024BE7LH")
    .optional(),
});

const rotationSchema = z.strictObject({
  users: z.array(name).min(1),
  shift: duration.refine((seconds) => seconds >= 60, "a shift of at least a minute, such as 1w"),
  handoff: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, "a time of day such as 09:00")
    .default("09:00"),
  timezone: z
    .string()
    .refine((zone) => IANAZone.isValidZone(zone), {
      error: (issue) =>
        `not an IANA time zone: ${JSON.stringify(issue.input)} (e.g. Europe/London)`,
    })
    .default("UTC"),
  start: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, "a date such as 2026-01-05")
    .refine((date) => DateTime.fromISO(date).isValid, "not a calendar date"),
});

const overrideSchema = z
  .strictObject({
    user: name,
    start: z.iso.datetime({ offset: true }),
    end: z.iso.datetime({ offset: true }),
  })
  .refine((o) => Date.parse(o.end) > Date.parse(o.start), {
    message: "must be later than start",
    path: ["end"],
  });

const scheduleSchema = z.strictObject({
  rotation: rotationSchema,
  overrides: z.array(overrideSchema).default([]),
});

const teamSchema = z.strictObject({
  name: z.string().min(1),
  manager: name.optional(),
  /**
   * Who may acknowledge, resolve or snooze the team's incidents from Slack: anyone in the
   * workspace, the people of its schedules (and its manager), or a list of Slack user ids.
   */
  responders: z
    .union([
      z.enum(["anyone", "rotation"]),
      z.array(z.string().regex(/^[UW][A-Z0-9]+$/, "a Slack user id such as U024BE7LH")).min(1),
    ])
    .default("anyone"),
  schedules: z.record(name, scheduleSchema).default({}),
});

const targetSchema = z.union([
  z.strictObject({ oncall: name }),
  z.strictObject({ user: name }),
  z.strictObject({ role: z.enum(["manager"]) }),
  z.strictObject({ channel: name }),
]);

const levelSchema = z.strictObject({ after: duration, targets: z.array(targetSchema).min(1) });

const policySchema = z.strictObject({
  /** Channels that page each level's people (PagerDuty); the route's channels are told once. */
  page: z.array(name).default([]),
  levels: z.array(levelSchema).min(1),
  repeat: z.number().int().min(0).max(10).default(0),
});

const routeSettings = {
  team: name.optional(),
  severity: z.enum(SEVERITIES).optional(),
  channels: z.array(name).optional(),
  escalation: z.union([name, z.null()]).optional(),
  delay: duration.optional(),
};

interface RouteInput {
  matchers: Matcher[];
  continue: boolean;
  team?: string | undefined;
  severity?: Severity | undefined;
  channels?: string[] | undefined;
  escalation?: string | null | undefined;
  delay?: number | undefined;
  routes: RouteInput[];
}

const routeSchema: z.ZodType<RouteInput, unknown> = z.lazy(() =>
  z.strictObject({
    matchers: z.array(matcher).default([]),
    continue: z.boolean().default(false),
    ...routeSettings,
    routes: z.array(routeSchema).default([]),
  }),
);

const severityPolicySchema = z.strictObject({
  channels: z.array(name).default([]),
  escalation: z.union([name, z.null()]).default(null),
  delay: duration.default(0),
});

const configSchema = z.strictObject({
  defaults: z
    .strictObject({ severity: z.enum(SEVERITIES).default("warning"), team: name })
    .prefault({ team: "default" }),
  users: z.record(name, userSchema).default({}),
  teams: z.record(name, teamSchema).default({}),
  channels: z.record(name, channelSchema).default({}),
  escalationPolicies: z.record(name, policySchema).default({}),
  severities: z.strictObject({
    critical: severityPolicySchema,
    high: severityPolicySchema,
    warning: severityPolicySchema,
    info: severityPolicySchema,
  }),
  route: routeSchema.optional(),
  /** How long incidents and their timelines are kept (DynamoDB TTL); 400 days when unset. */
  retention: duration.optional(),
  runbooks: z
    .strictObject({
      /** The folder of runbooks, relative to the config file. */
      dir: z.string().default("runbooks"),
      /** Where people read them: runbook links are this plus the file name. */
      baseUrl: z.url().default("https://github.com/tocsin-dev/tocsin/blob/main/runbooks/"),
    })
    .prefault({}),
});

export type Config = z.output<typeof configSchema>;
export type RouteNode = RouteInput;
export type ChannelConfig = z.output<typeof channelSchema>;
export type EscalationPolicy = z.output<typeof policySchema>;

function formatPath(path: readonly PropertyKey[]): string {
  return path.map(String).join(".") || "(top level)";
}

/** Checks that every name a config uses is defined somewhere in it. */
function checkReferences(config: Config): string[] {
  const problems: string[] = [];
  const channel = (where: string, id: string) => {
    if (!config.channels[id]) problems.push(`${where}: unknown channel "${id}"`);
  };
  const policy = (where: string, id: string | null | undefined) => {
    if (id && !config.escalationPolicies[id])
      problems.push(`${where}: unknown escalation policy "${id}"`);
  };
  const team = (where: string, id: string | undefined) => {
    if (id && id !== config.defaults.team && !config.teams[id])
      problems.push(`${where}: unknown team "${id}"`);
  };
  const user = (where: string, id: string | undefined) => {
    if (id && !config.users[id]) problems.push(`${where}: unknown user "${id}"`);
  };
  team("defaults.team", config.defaults.team);
  for (const severity of SEVERITIES) {
    const entry = config.severities[severity];
    entry.channels.forEach((id, i) => {
      channel(`severities.${severity}.channels.${i}`, id);
    });
    policy(`severities.${severity}.escalation`, entry.escalation);
  }
  for (const [id, t] of Object.entries(config.teams)) {
    user(`teams.${id}.manager`, t.manager);
    for (const [scheduleId, schedule] of Object.entries(t.schedules)) {
      schedule.rotation.users.forEach((u, i) => {
        user(`teams.${id}.schedules.${scheduleId}.rotation.users.${i}`, u);
      });
      schedule.overrides.forEach((o, i) => {
        user(`teams.${id}.schedules.${scheduleId}.overrides.${i}.user`, o.user);
      });
    }
  }
  for (const [id, p] of Object.entries(config.escalationPolicies)) {
    p.page.forEach((c, i) => {
      channel(`escalationPolicies.${id}.page.${i}`, c);
    });
    p.levels.forEach((level, i) => {
      const previous = p.levels[i - 1];
      if (previous && level.after <= previous.after) {
        problems.push(
          `escalationPolicies.${id}.levels.${i}.after: must be later than the level before it`,
        );
      }
      level.targets.forEach((target, j) => {
        const where = `escalationPolicies.${id}.levels.${i}.targets.${j}`;
        if ("user" in target) user(where, target.user);
        if ("channel" in target) channel(where, target.channel);
      });
    });
  }
  const walk = (node: RouteInput, where: string) => {
    team(`${where}.team`, node.team);
    node.channels?.forEach((id, i) => {
      channel(`${where}.channels.${i}`, id);
    });
    policy(`${where}.escalation`, node.escalation);
    node.routes.forEach((child, i) => {
      walk(child, `${where}.routes.${i}`);
    });
  };
  if (config.route) walk(config.route, "route");
  return problems;
}

/**
 * Parses and validates tocsin.yaml. Throws InvalidConfigError whose message names every
 * offending field (`route.routes.1.channels.0: unknown channel "pager"`).
 */
export function parseConfig(text: string, source = "tocsin.yaml"): Config {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    const where =
      error instanceof YAMLParseError && error.linePos ? ` at line ${error.linePos[0].line}` : "";
    throw new InvalidConfigError(`${source}: not valid YAML${where}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
    throw new InvalidConfigError(`${source} is not valid:\n  ${lines.join("\n  ")}`);
  }
  const problems = checkReferences(result.data);
  if (problems.length > 0)
    throw new InvalidConfigError(`${source} is not valid:\n  ${problems.join("\n  ")}`);
  return result.data;
}
