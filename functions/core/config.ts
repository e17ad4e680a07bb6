import { parsePhoneNumberWithError } from "libphonenumber-js";
import * as z from "zod/mini";
import { SEVERITIES, type Severity } from "./alert.js";
import { CONTACT_METHODS, type NotificationRule } from "./contacts.js";
import { parseDuration } from "./duration.js";
import { InvalidConfigError } from "./errors.js";
import { type Matcher, parseMatcher } from "./matchers.js";
import { issuePath, validate } from "./validation.js";

let canonicalZones: ReadonlySet<string> | undefined;

/**
 * An IANA zone name the runtime knows (Europe/London), aliases included (US/Eastern,
 * Asia/Kolkata on some ICU versions), as luxon's IANAZone checks it. The list of canonical names answers first: a cold start
 * that builds an Intl.DateTimeFormat pays 20-30 ms to load ICU's zone data, and only
 * aliases and UTC need one.
 */
function isTimeZone(zone: string): boolean {
  canonicalZones ??= new Set(Intl.supportedValuesOf("timeZone"));
  if (canonicalZones.has(zone)) return true;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** `2026-02-30` is shaped like a date but is none. */
function isCalendarDate(date: string): boolean {
  const day = new Date(`${date}T00:00:00Z`);
  return !Number.isNaN(day.getTime()) && day.toISOString().startsWith(date);
}

const name = z
  .string()
  .check(z.regex(/^[a-z0-9][a-z0-9_.-]*$/, "use lowercase letters, digits, '-', '_' or '.'"));
const duration = z.pipe(
  z.union([z.string(), z.literal(0)]),
  z.transform((value, ctx) => {
    const seconds = parseDuration(String(value));
    if (seconds === null) {
      ctx.issues.push({
        code: "custom",
        input: value,
        message: `not a duration: ${JSON.stringify(value)} (use 0, 30s, 15m, 1h, 1d, 1w)`,
      });
      return z.NEVER;
    }
    return seconds;
  }),
);
const matcher = z.pipe(
  z.string(),
  z.transform((text, ctx): Matcher => {
    try {
      return parseMatcher(text);
    } catch (error) {
      ctx.issues.push({ code: "custom", input: text, message: (error as Error).message });
      return z.NEVER;
    }
  }),
);
const slackUserId = z
  .string()
  .check(z.regex(/^[UW][A-Z0-9]+$/, "a Slack user id such as U024BE7LH"));

/**
 * A phone number as SNS and End User Messaging take it: E.164, canonical (`+14155552671`,
 * no spaces), and a number that exists in its country's plan (libphonenumber-js), so that
 * a typo is refused at start-up rather than at 3 a.m.
 */
const phone = z.string().check(
  z.refine((text) => phoneProblem(text) === null, {
    error: (issue) => phoneProblem(String(issue.input)) ?? "not a phone number",
  }),
);

function phoneProblem(text: string): string | null {
  let parsed: ReturnType<typeof parsePhoneNumberWithError>;
  try {
    parsed = parsePhoneNumberWithError(text);
  } catch {
    return `${JSON.stringify(text)} is not a phone number: write it in E.164, such as "+14155552671"`;
  }
  if (!parsed.isValid())
    return `${JSON.stringify(text)} is not a valid phone number for country code +${parsed.countryCallingCode}`;
  if (parsed.number !== text)
    return `${JSON.stringify(text)} is not E.164, write ${JSON.stringify(parsed.number)}`;
  return null;
}

const pagerDutyId = z
  .string()
  .check(z.regex(/^P[A-Z0-9]{5,13}$/, "a PagerDuty id such as PXPGF42"));

/** The longest a rule may wait: a delivery owed longer than the pipeline's give-up window is dropped. */
const MAX_RULE_AFTER_SECONDS = 4 * 3600;

const ruleSchema = z.strictObject({
  after: duration.check(
    z.refine((seconds) => seconds <= MAX_RULE_AFTER_SECONDS, "at most 4h after the level fires"),
  ),
  notify: z.array(z.enum(CONTACT_METHODS)).check(
    z.minLength(1),
    z.refine((methods) => new Set(methods).size === methods.length, "names a method twice"),
  ),
});

/** A person's notification rules: at least one, each later than the one before it. */
const rulesSchema = z.array(ruleSchema).check(
  z.minLength(1),
  z.superRefine((rules, ctx) => {
    rules.forEach((rule, i) => {
      if (i > 0 && rule.after <= rules[i - 1]!.after)
        ctx.issues.push({
          code: "custom",
          input: rule.after,
          path: [i, "after"],
          message: "must be later than the rule before it",
        });
    });
  }),
);

/**
 * Whom a person is reached by when they do not say (PagerDuty's and Opsgenie's default
 * rules): Slack, SMS and email at once, then a voice call after 2 and after 5 minutes.
 * A method the person has no contact data for is skipped.
 */
export const DEFAULT_NOTIFICATION_RULES: readonly NotificationRule[] = [
  { after: 0, notify: ["slack", "sms", "email"] },
  { after: 120, notify: ["voice"] },
  { after: 300, notify: ["voice"] },
];

const channelSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("pagerduty"),
    routingKeyEnv: z.optional(z.string()),
    /**
     * `service` (absent: the default): Events v2, one alert per incident, PagerDuty's own
     * escalation policy pages people. `user`: the REST API assigns the incident to each
     * level's people by their PagerDuty user ids.
     */
    mode: z.optional(z.enum(["service", "user"])),
    /** user mode: the PagerDuty service the incidents are opened on. */
    service: z.optional(pagerDutyId),
    /** user mode: the email of the PagerDuty bot user the REST calls act as (`From`). */
    from: z.optional(z.email()),
  }),
  z.strictObject({
    type: z.literal("slack"),
    channel: z
      .string()
      .check(
        z.regex(/^[#@]?[\w.-]+$/, "a Slack channel such as #incidents or an id such as C0123"),
      ),
  }),
  z.strictObject({ type: z.literal("email"), address: z.email() }),
]);

const userSchema = z.strictObject({
  name: z.string().check(z.minLength(1)),
  email: z.optional(z.email()),
  slack: z.optional(slackUserId),
  /** For SMS and voice calls, in E.164. */
  phone: z.optional(phone),
  /** The person's PagerDuty user id, for PagerDuty channels in user mode. */
  pagerduty: z.optional(pagerDutyId),
  /** How the person is reached when a level names them; absent: the config's notificationRules. */
  rules: z.optional(rulesSchema),
});

const rotationSchema = z.strictObject({
  users: z.array(name).check(z.minLength(1)),
  shift: duration.check(
    z.refine((seconds) => seconds >= 60, "a shift of at least a minute, such as 1w"),
  ),
  handoff: z._default(
    z.string().check(z.regex(/^([01]\d|2[0-3]):[0-5]\d$/, "a time of day such as 09:00")),
    "09:00",
  ),
  timezone: z._default(
    z.string().check(
      z.refine(isTimeZone, {
        error: (issue) =>
          `not an IANA time zone: ${JSON.stringify(issue.input)} (e.g. Europe/London)`,
      }),
    ),
    "UTC",
  ),
  start: z
    .string()
    .check(
      z.regex(/^\d{4}-\d{2}-\d{2}$/, "a date such as 2026-01-05"),
      z.refine(isCalendarDate, "not a calendar date"),
    ),
});

const overrideSchema = z
  .strictObject({
    user: name,
    start: z.iso.datetime({ offset: true }),
    end: z.iso.datetime({ offset: true }),
  })
  .check(
    z.refine((o) => Date.parse(o.end) > Date.parse(o.start), {
      message: "must be later than start",
      path: ["end"],
    }),
  );

const scheduleSchema = z.strictObject({
  rotation: rotationSchema,
  overrides: z._default(z.array(overrideSchema), []),
});

const teamSchema = z.strictObject({
  name: z.string().check(z.minLength(1)),
  manager: z.optional(name),
  /**
   * Who may acknowledge, resolve or snooze the team's incidents from Slack: anyone in the
   * workspace, the people of its schedules (and its manager), or a list of Slack user ids.
   */
  responders: z._default(
    z.union([z.enum(["anyone", "rotation"]), z.array(slackUserId).check(z.minLength(1))]),
    "anyone",
  ),
  schedules: z._default(z.record(name, scheduleSchema), {}),
});

const targetSchema = z.union([
  z.strictObject({ oncall: name }),
  z.strictObject({ user: name }),
  z.strictObject({ role: z.enum(["manager"]) }),
  z.strictObject({ channel: name }),
]);

const levelSchema = z.strictObject({
  after: duration,
  targets: z.array(targetSchema).check(z.minLength(1)),
});

const policySchema = z.strictObject({
  /** Channels that page each level's people (PagerDuty); the route's channels are told once. */
  page: z._default(z.array(name), []),
  levels: z.array(levelSchema).check(z.minLength(1)),
  repeat: z._default(z.int().check(z.gte(0), z.lte(10)), 0),
});

const routeSettings = {
  team: z.optional(name),
  severity: z.optional(z.enum(SEVERITIES)),
  channels: z.optional(z.array(name)),
  escalation: z.optional(z.nullable(name)),
  delay: z.optional(duration),
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

const routeSchema: z.ZodMiniType<RouteInput, unknown> = z.lazy(() =>
  z.strictObject({
    matchers: z._default(z.array(matcher), []),
    continue: z._default(z.boolean(), false),
    ...routeSettings,
    routes: z._default(z.array(routeSchema), []),
  }),
);

const severityPolicySchema = z.strictObject({
  channels: z._default(z.array(name), []),
  escalation: z._default(z.nullable(name), null),
  delay: z._default(duration, 0),
});

const configSchema = z.strictObject({
  defaults: z.prefault(
    z.strictObject({ severity: z._default(z.enum(SEVERITIES), "warning"), team: name }),
    { team: "default" },
  ),
  users: z._default(z.record(name, userSchema), {}),
  /** The notification rules of people who set none. */
  notificationRules: z._default(rulesSchema, () =>
    DEFAULT_NOTIFICATION_RULES.map((rule) => ({ ...rule, notify: [...rule.notify] })),
  ),
  /** Acknowledgement links in SMS, email and Slack DMs. */
  links: z.prefault(
    z.strictObject({
      /** How long a link acts, from the message that carries it (1m..7d). */
      ttl: z._default(
        duration.check(
          z.refine((seconds) => seconds >= 60 && seconds <= 7 * 86_400, "between 1m and 7d"),
        ),
        43_200,
      ),
    }),
    {},
  ),
  teams: z._default(z.record(name, teamSchema), {}),
  channels: z._default(z.record(name, channelSchema), {}),
  escalationPolicies: z._default(z.record(name, policySchema), {}),
  severities: z.strictObject({
    critical: severityPolicySchema,
    high: severityPolicySchema,
    warning: severityPolicySchema,
    info: severityPolicySchema,
  }),
  route: z.optional(routeSchema),
  /** How long incidents and their timelines are kept (DynamoDB TTL); 400 days when unset. */
  retention: z.optional(duration),
  runbooks: z.prefault(
    z.strictObject({
      /** The folder of runbooks, relative to the config file. */
      dir: z._default(z.string(), "runbooks"),
      /** Where people read them: runbook links are this plus the file name. */
      baseUrl: z._default(z.url(), "https://github.com/tocsin-dev/tocsin/blob/main/runbooks/"),
    }),
    {},
  ),
});

export type Config = z.output<typeof configSchema>;
export type RouteNode = RouteInput;
export type ChannelConfig = z.output<typeof channelSchema>;
export type EscalationPolicy = z.output<typeof policySchema>;
export type UserConfig = z.output<typeof userSchema>;

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
  return [...problems, ...checkPeople(config), ...checkIdentities(config)];
}

/** A contact field that names one person: what a reply, a click or a webhook is credited by. */
const IDENTITIES = [
  ["pagerduty", "PagerDuty user id"],
  ["slack", "Slack member id"],
  ["email", "email address"],
] as const;

/**
 * Ids two people share: an acknowledgement in PagerDuty or Slack would be credited to
 * whichever comes first. (A person whose rules name only methods they have no data for is
 * allowed, as PagerDuty and GoAlert allow it: each level records them unreachable.)
 */
function checkIdentities(config: Config): string[] {
  const problems: string[] = [];
  for (const [field, what] of IDENTITIES) {
    const seen = new Map<string, string>();
    for (const [id, user] of Object.entries(config.users)) {
      const value = user[field];
      if (!value) continue;
      const key = value.toLowerCase();
      const other = seen.get(key);
      if (other)
        problems.push(
          `users.${id}.${field}: ${JSON.stringify(value)} is also users.${other}.${field} (each person needs their own ${what})`,
        );
      else seen.set(key, id);
    }
  }
  return problems;
}

/** What one field cannot say alone: phones shared by two people, PagerDuty modes. */
function checkPeople(config: Config): string[] {
  const problems: string[] = [];
  const phones = new Map<string, string>();
  for (const [id, user] of Object.entries(config.users)) {
    if (!user.phone) continue;
    const other = phones.get(user.phone);
    if (other)
      problems.push(
        `users.${id}.phone: ${JSON.stringify(user.phone)} is also users.${other}.phone (each person needs their own number)`,
      );
    else phones.set(user.phone, id);
  }
  const emails = new Map(
    Object.entries(config.users).flatMap(([id, u]) =>
      u.email ? [[u.email.toLowerCase(), id]] : [],
    ),
  );
  for (const [id, channel] of Object.entries(config.channels)) {
    if (channel.type !== "pagerduty") continue;
    const where = `channels.${id}`;
    if (channel.mode === "user") {
      if (!channel.service)
        problems.push(
          `${where}.service: mode user needs the PagerDuty service id, such as PXPGF42`,
        );
      if (!channel.from)
        problems.push(`${where}.from: mode user needs the email of a PagerDuty bot user`);
      const person = channel.from ? emails.get(channel.from.toLowerCase()) : undefined;
      if (person)
        problems.push(
          `${where}.from: ${channel.from} is users.${person}.email; use a bot user (an incident a person assigns to themselves notifies nobody)`,
        );
    } else {
      if (channel.service !== undefined)
        problems.push(`${where}.service: only for mode user (service mode uses the routing key)`);
      if (channel.from !== undefined) problems.push(`${where}.from: only for mode user`);
    }
  }
  return problems;
}

/**
 * Validates the document of tocsin.yaml (parsed by yaml-files.ts, or read back from the
 * JSON snapshot a Lambda bundle carries). Throws InvalidConfigError whose message names
 * every offending field (`route.routes.1.channels.0: unknown channel "pager"`).
 */
export function validateConfig(document: unknown, source = "tocsin.yaml"): Config {
  const result = validate(configSchema, document ?? {});
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `${issuePath(issue.path)}: ${issue.message}`);
    throw new InvalidConfigError(`${source} is not valid:\n  ${lines.join("\n  ")}`);
  }
  const problems = checkReferences(result.data);
  if (problems.length > 0)
    throw new InvalidConfigError(`${source} is not valid:\n  ${problems.join("\n  ")}`);
  return result.data;
}
