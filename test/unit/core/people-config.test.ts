import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEFAULT_NOTIFICATION_RULES } from "../../../functions/core/config.js";
import { parseConfig } from "../../../functions/core/yaml-files.js";
import { configProblem, MINIMAL_CONFIG } from "../../support/config-text.js";

const withUsers = (users: string, more = "") => `${MINIMAL_CONFIG}\nusers:\n${users}\n${more}`;

describe("people's contact methods and notification rules in tocsin.yaml", () => {
  it("accepts a complete person and fills the defaults: built-in rules, 12h links", () => {
    const config = parseConfig(
      withUsers(
        `  alice:
    name: Alice Martin
    email: alice@example.com
    slack: U0ALICE01
    phone: "+14155552671"
    pagerduty: PXPGF42
    rules:
      - { after: 0, notify: [slack, sms] }
      - { after: 2m, notify: [voice] }
      - { after: 5m, notify: [voice, email] }
  bob: { name: Bob Chen }`,
        "channels:\n  pd: { type: pagerduty }\n  pd-people: { type: pagerduty, mode: user, service: PWIXJZS, from: tocsin-bot@example.com }",
      ),
    );
    expect(config.users.alice).toEqual({
      name: "Alice Martin",
      email: "alice@example.com",
      slack: "U0ALICE01",
      phone: "+14155552671",
      pagerduty: "PXPGF42",
      rules: [
        { after: 0, notify: ["slack", "sms"] },
        { after: 120, notify: ["voice"] },
        { after: 300, notify: ["voice", "email"] },
      ],
    });
    expect(config.users.bob!.rules).toBeUndefined();
    expect(config.notificationRules).toEqual(DEFAULT_NOTIFICATION_RULES);
    expect(config.notificationRules).toEqual([
      { after: 0, notify: ["slack", "sms", "email"] },
      { after: 120, notify: ["voice"] },
      { after: 300, notify: ["voice"] },
    ]);
    expect(config.links).toEqual({ ttl: 43_200 });
    expect(config.channels.pd).toEqual({ type: "pagerduty" });
    expect(config.channels["pd-people"]).toEqual({
      type: "pagerduty",
      mode: "user",
      service: "PWIXJZS",
      from: "tocsin-bot@example.com",
    });
  });

  it("takes the config's own default rules and link lifetime", () => {
    const config = parseConfig(
      `${MINIMAL_CONFIG}\nnotificationRules: [{ after: 0, notify: [sms] }, { after: 1m, notify: [voice] }]\nlinks: { ttl: 30m }`,
    );
    expect(config.notificationRules).toEqual([
      { after: 0, notify: ["sms"] },
      { after: 60, notify: ["voice"] },
    ]);
    expect(config.links.ttl).toBe(1800);
  });

  it("a parsed config's default rules are its own (changing one config leaves the next intact)", () => {
    const first = parseConfig(MINIMAL_CONFIG);
    first.notificationRules[0]!.notify.push("voice");
    expect(parseConfig(MINIMAL_CONFIG).notificationRules).toEqual(DEFAULT_NOTIFICATION_RULES);
  });

  const bad: Array<[string, string, RegExp]> = [
    [
      "a phone with spaces",
      withUsers('  alice: { name: A, phone: "+1 415 555 2671" }'),
      /users\.alice\.phone: "\+1 415 555 2671" is not E\.164, write "\+14155552671"/,
    ],
    [
      "a phone without its country code",
      withUsers('  alice: { name: A, phone: "4155552671" }'),
      /users\.alice\.phone: "4155552671" is not a phone number: write it in E\.164/,
    ],
    [
      "a phone number that does not exist",
      withUsers('  alice: { name: A, phone: "+447700900123" }'),
      /users\.alice\.phone: "\+447700900123" is not a valid phone number for country code \+44/,
    ],
    [
      "text for a phone",
      withUsers("  alice: { name: A, phone: call me }"),
      /users\.alice\.phone: "call me" is not a phone number/,
    ],
    [
      "two people with one phone",
      withUsers(
        '  alice: { name: A, phone: "+14155552671" }\n  bob: { name: B, phone: "+14155552671" }',
      ),
      /users\.bob\.phone: "\+14155552671" is also users\.alice\.phone/,
    ],
    [
      "two people with one PagerDuty user id (an acknowledgement in PagerDuty names one of them)",
      withUsers("  alice: { name: A, pagerduty: PXPGF42 }\n  bob: { name: B, pagerduty: PXPGF42 }"),
      /users\.bob\.pagerduty: "PXPGF42" is also users\.alice\.pagerduty \(each person needs their own PagerDuty user id\)/,
    ],
    [
      "two people with one Slack member id",
      withUsers("  alice: { name: A, slack: U0ALICE01 }\n  bob: { name: B, slack: U0ALICE01 }"),
      /users\.bob\.slack: "U0ALICE01" is also users\.alice\.slack/,
    ],
    [
      "two people with one email, whatever its case",
      withUsers(
        "  alice: { name: A, email: oncall@example.com }\n  bob: { name: B, email: OnCall@example.com }",
      ),
      /users\.bob\.email: "OnCall@example.com" is also users\.alice\.email/,
    ],
    [
      "a PagerDuty user id that is not one",
      withUsers("  alice: { name: A, pagerduty: bob@example.com }"),
      /users\.alice\.pagerduty: a PagerDuty id such as PXPGF42/,
    ],
    [
      "rules out of order",
      withUsers(
        "  alice: { name: A, rules: [{ after: 5m, notify: [sms] }, { after: 2m, notify: [voice] }] }",
      ),
      /users\.alice\.rules\.1\.after: must be later than the rule before it/,
    ],
    [
      "two rules at the same time",
      withUsers(
        "  alice: { name: A, rules: [{ after: 0, notify: [sms] }, { after: 0, notify: [voice] }] }",
      ),
      /users\.alice\.rules\.1\.after: must be later than the rule before it/,
    ],
    [
      "a rule later than 4h",
      withUsers("  alice: { name: A, rules: [{ after: 5h, notify: [sms] }] }"),
      /users\.alice\.rules\.0\.after: at most 4h/,
    ],
    [
      "an unknown method",
      withUsers("  alice: { name: A, rules: [{ after: 0, notify: [pigeon] }] }"),
      /users\.alice\.rules\.0\.notify\.0: /,
    ],
    [
      "a method named twice",
      withUsers("  alice: { name: A, rules: [{ after: 0, notify: [sms, sms] }] }"),
      /users\.alice\.rules\.0\.notify: names a method twice/,
    ],
    [
      "a rule with no method",
      withUsers("  alice: { name: A, rules: [{ after: 0, notify: [] }] }"),
      /users\.alice\.rules\.0\.notify: /,
    ],
    ["no rules at all", withUsers("  alice: { name: A, rules: [] }"), /users\.alice\.rules: /],
    [
      "bad default rules",
      `${MINIMAL_CONFIG}\nnotificationRules: [{ after: 2m, notify: [sms] }, { after: 1m, notify: [voice] }]`,
      /notificationRules\.1\.after: must be later/,
    ],
    [
      "a link lifetime too long",
      `${MINIMAL_CONFIG}\nlinks: { ttl: 8d }`,
      /links\.ttl: between 1m and 7d/,
    ],
    [
      "a link lifetime too short",
      `${MINIMAL_CONFIG}\nlinks: { ttl: 30s }`,
      /links\.ttl: between 1m and 7d/,
    ],
    [
      "user mode without its service",
      `${MINIMAL_CONFIG}\nchannels: { pd: { type: pagerduty, mode: user, from: bot@example.com } }`,
      /channels\.pd\.service: mode user needs the PagerDuty service id/,
    ],
    [
      "user mode without `from`",
      `${MINIMAL_CONFIG}\nchannels: { pd: { type: pagerduty, mode: user, service: PWIXJZS } }`,
      /channels\.pd\.from: mode user needs the email of a PagerDuty bot user/,
    ],
    [
      "user mode acting as one of the people",
      withUsers(
        "  alice: { name: A, email: Alice@example.com }",
        "channels: { pd: { type: pagerduty, mode: user, service: PWIXJZS, from: alice@example.com } }",
      ),
      /channels\.pd\.from: alice@example\.com is users\.alice\.email; use a bot user/,
    ],
    [
      "a service in service mode",
      `${MINIMAL_CONFIG}\nchannels: { pd: { type: pagerduty, service: PWIXJZS } }`,
      /channels\.pd\.service: only for mode user/,
    ],
    [
      "`from` in service mode",
      `${MINIMAL_CONFIG}\nchannels: { pd: { type: pagerduty, mode: service, from: bot@example.com } }`,
      /channels\.pd\.from: only for mode user/,
    ],
    [
      "a service id that is not one",
      `${MINIMAL_CONFIG}\nchannels: { pd: { type: pagerduty, mode: user, service: my-service, from: bot@example.com } }`,
      /channels\.pd\.service: a PagerDuty id such as PXPGF42/,
    ],
    [
      "an unknown mode",
      `${MINIMAL_CONFIG}\nchannels: { pd: { type: pagerduty, mode: people } }`,
      /channels\.pd\.mode: /,
    ],
  ];
  it.each(bad)("refuses %s, naming the field", (_name, text, message) => {
    const refusal = configProblem(text);
    expect(refusal).toMatch(message);
    expect(refusal).toMatch(/^test\.yaml/);
  });
});

describe("examples/tocsin-people.yaml", () => {
  it("is valid and shows a person with every contact method and both PagerDuty modes", () => {
    const text = readFileSync(
      new URL("../../../examples/tocsin-people.yaml", import.meta.url),
      "utf8",
    );
    const config = parseConfig(text);
    const alice = config.users.alice!;
    expect(Object.keys(alice).sort()).toEqual([
      "email",
      "name",
      "pagerduty",
      "phone",
      "rules",
      "slack",
    ]);
    expect(alice.rules!.flatMap((r) => r.notify).sort()).toEqual(
      ["email", "slack", "sms", "voice", "voice"].sort(),
    );
    expect(
      Object.values(config.channels).map((c) =>
        c.type === "pagerduty" ? (c.mode ?? "service") : c.type,
      ),
    ).toEqual(["service", "user", "slack"]);
  });

  it("the shipped tocsin.yaml writes out the built-in default rules", () => {
    const text = readFileSync(new URL("../../../tocsin.yaml", import.meta.url), "utf8");
    expect(parseConfig(text).notificationRules).toEqual(DEFAULT_NOTIFICATION_RULES);
  });
});
