import { describe, expect, it } from "vitest";
import { mayRespond, type SlackUser } from "../../../functions/core/responders.js";
import { parseConfig } from "../../../functions/core/yaml-files.js";
import { describeSlackUser } from "../../../functions/integrations/slack/users.js";
import { MINIMAL_CONFIG } from "../../support/config-text.js";

const SEVERITIES = MINIMAL_CONFIG;

// One team per responders rule; the people are the same everywhere.
const config = parseConfig(`
users:
  alice: { name: Alice Martin, slack: U0ALICE01 }
  bob: { name: Bob Chen, slack: U0BOB0001 }
  carol: { name: Carol Diaz, slack: U0CAROL01 }
  grace: { name: Grace Okafor, slack: U0GRACE01 }
  olga: { name: Olga Berg, slack: U0OLGA001 }
  nomad: { name: No Slack }
  vp: { name: Victoria Park, slack: U0VICTORI }
teams:
  open:
    name: Open
    schedules:
      primary: { rotation: { users: [alice], shift: 1w, start: "2026-01-05" } }
  oncall:
    name: On call
    manager: grace
    responders: rotation
    schedules:
      primary:
        rotation: { users: [alice, bob], shift: 1w, start: "2026-01-05" }
        overrides:
          - { user: olga, start: "2026-11-30T00:00:00Z", end: "2026-12-01T00:00:00Z" }
      secondary: { rotation: { users: [carol, nomad], shift: 1w, start: "2026-01-05" } }
  managerless:
    name: No manager
    responders: rotation
    schedules:
      primary: { rotation: { users: [bob], shift: 1w, start: "2026-01-05" } }
  listed:
    name: Listed
    manager: grace
    responders: [U0BOB0001, U0EXTERN1]
    schedules:
      primary: { rotation: { users: [alice], shift: 1w, start: "2026-01-05" } }
${SEVERITIES}`);

const slackUser = (id: string, name?: string): SlackUser => ({ id, name });

describe("describeSlackUser", () => {
  const cases: Array<[string, SlackUser, string]> = [
    ["a configured user", slackUser("U0ALICE01", "alice.m"), "Alice Martin (alice)"],
    ["a configured user, Slack name unknown", slackUser("U0BOB0001"), "Bob Chen (bob)"],
    ["a stranger with a Slack name", slackUser("U024BE7LH", "ada"), "ada (Slack U024BE7LH)"],
    ["a stranger without a name", slackUser("U024BE7LH"), "someone (Slack U024BE7LH)"],
    [
      "a stranger whose name is a configured user's id",
      slackUser("U0FAKE001", "alice"),
      "alice (Slack U0FAKE001)",
    ],
  ];
  it.each(cases)("%s", (_, user, expected) => {
    // Act
    const actor = describeSlackUser(config, user);
    // Assess
    expect(actor).toBe(expected);
  });
});

describe("mayRespond", () => {
  const cases: Array<[team: string, who: string, slackId: string, allowed: boolean]> = [
    // anyone (the default): everyone in the workspace, configured or not.
    ["open", "a rotation member", "U0ALICE01", true],
    ["open", "someone outside the team", "U0BOB0001", true],
    ["open", "a stranger", "U024BE7LH", true],
    // a team missing from the config: nobody to restrict to.
    ["ghost", "a stranger", "U024BE7LH", true],
    // rotation: the people of every schedule, their overrides, and the manager.
    ["oncall", "primary rotation member", "U0ALICE01", true],
    ["oncall", "another primary rotation member", "U0BOB0001", true],
    ["oncall", "secondary rotation member", "U0CAROL01", true],
    ["oncall", "an override's user", "U0OLGA001", true],
    ["oncall", "the manager", "U0GRACE01", true],
    ["oncall", "a configured user of no schedule", "U0VICTORI", false],
    ["oncall", "a stranger", "U024BE7LH", false],
    ["managerless", "its rotation member", "U0BOB0001", true],
    ["managerless", "another team's manager", "U0GRACE01", false],
    ["managerless", "another team's member", "U0ALICE01", false],
    // a list of Slack ids: those ids only, configured or not, rotation or manager aside.
    ["listed", "a listed configured user", "U0BOB0001", true],
    ["listed", "a listed id of no configured user", "U0EXTERN1", true],
    ["listed", "its rotation member, not listed", "U0ALICE01", false],
    ["listed", "its manager, not listed", "U0GRACE01", false],
    ["listed", "a stranger", "U024BE7LH", false],
  ];
  it.each(cases)("team %s, %s → %s", (team, _, slackId, allowed) => {
    // Act
    const verdict = mayRespond(config, team, slackUser(slackId, "whoever"));
    // Assess
    expect(verdict).toBe(allowed);
  });

  it("never matches a user without a Slack id to a click", () => {
    // Prepare: nomad is in the secondary rotation but has no Slack id; ids are not names.
    const clicker = slackUser("nomad", "nomad");
    // Act
    const verdict = mayRespond(config, "oncall", clicker);
    // Assess
    expect(verdict).toBe(false);
  });
});
