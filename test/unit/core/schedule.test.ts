import { readFileSync } from "node:fs";
import fc from "fast-check";
import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";
import {
  type Schedule,
  type Shift,
  shiftAt,
  whoIsOnCall,
} from "../../../functions/core/schedule.js";
import { parseConfig } from "../../../functions/core/yaml-files.js";
import { configProblem, MINIMAL_CONFIG } from "../../support/config-text.js";

const HOUR = 3600;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const EARLIEST = new Date(-8.64e15);

function schedule(
  rotation: Partial<Schedule["rotation"]>,
  overrides: Schedule["overrides"] = [],
): Schedule {
  return {
    rotation: {
      users: ["alice", "bob", "chandra"],
      shift: WEEK,
      handoff: "09:00",
      timezone: "UTC",
      start: "2026-01-05",
      ...rotation,
    },
    overrides,
  };
}

function shift(user: string, start: string | Date, end: string, override = false): Shift {
  return { user, start: new Date(start), end: new Date(end), override };
}

/** Weekly, Mondays 09:00 London time: alice from 2026-01-05, then bob, then chandra. */
const london = schedule({ timezone: "Europe/London" });
/** Daily, 10:00 New York time: dmitri from 2026-01-05, then erin. */
const newYork = schedule({
  users: ["dmitri", "erin"],
  shift: DAY,
  handoff: "10:00",
  timezone: "America/New_York",
});
/** Every 12 hours from 2026-03-27 08:00 Berlin time (07:00Z), DST or not. */
const twelveHours = schedule({
  users: ["ana", "ben"],
  shift: 12 * HOUR,
  handoff: "08:00",
  timezone: "Europe/Berlin",
  start: "2026-03-27",
});
/** Daily, 09:00 India time (UTC+05:30, so 03:30Z). */
const kolkata = schedule({ users: ["x", "y", "z"], shift: DAY, timezone: "Asia/Kolkata" });
/** Daily at 02:30 Paris time, a time that does not exist on 2026-03-29. */
const paris = schedule({
  users: ["p", "q"],
  shift: DAY,
  handoff: "02:30",
  timezone: "Europe/Paris",
  start: "2026-03-27",
});

describe("shiftAt: rotations", () => {
  const cases: Array<[string, Schedule, string, Shift]> = [
    // London: GMT until 2026-03-29, BST until 2026-10-25. Handoffs stay at 09:00 local.
    [
      "weekly London, just before the first BST handoff",
      london,
      "2026-03-30T07:59:59.999Z",
      shift("chandra", "2026-03-23T09:00:00Z", "2026-03-30T08:00:00Z"),
    ],
    [
      "weekly London, at the first BST handoff (09:00 BST = 08:00Z; a 167-hour shift before)",
      london,
      "2026-03-30T08:00:00Z",
      shift("alice", "2026-03-30T08:00:00Z", "2026-04-06T08:00:00Z"),
    ],
    [
      "weekly London, 08:00Z on the Monday after BST ends is still 08:00 GMT",
      london,
      "2026-10-26T08:00:00Z",
      shift("chandra", "2026-10-19T08:00:00Z", "2026-10-26T09:00:00Z"),
    ],
    [
      "weekly London, just before the first GMT handoff (a 169-hour shift)",
      london,
      "2026-10-26T08:59:59.999Z",
      shift("chandra", "2026-10-19T08:00:00Z", "2026-10-26T09:00:00Z"),
    ],
    [
      "weekly London, at the first GMT handoff",
      london,
      "2026-10-26T09:00:00Z",
      shift("alice", "2026-10-26T09:00:00Z", "2026-11-02T09:00:00Z"),
    ],
    // New York: EDT from 2026-03-08, EST from 2026-11-01.
    [
      "daily New York, the 23-hour shift that spans spring forward",
      newYork,
      "2026-03-08T13:59:59.999Z",
      shift("erin", "2026-03-07T15:00:00Z", "2026-03-08T14:00:00Z"),
    ],
    [
      "daily New York, at 10:00 EDT on the DST day",
      newYork,
      "2026-03-08T14:00:00Z",
      shift("dmitri", "2026-03-08T14:00:00Z", "2026-03-09T14:00:00Z"),
    ],
    [
      "daily New York, the 25-hour shift that spans fall back",
      newYork,
      "2026-11-01T14:59:59.999Z",
      shift("erin", "2026-10-31T14:00:00Z", "2026-11-01T15:00:00Z"),
    ],
    [
      "daily New York, at 10:00 EST on the DST day",
      newYork,
      "2026-11-01T15:00:00Z",
      shift("dmitri", "2026-11-01T15:00:00Z", "2026-11-02T15:00:00Z"),
    ],
    // 12h: fixed elapsed time, so the handoff moves from 08:00/20:00 to 09:00/21:00 CEST.
    [
      "12h Berlin, the night shift that spans spring forward is still 12 hours",
      twelveHours,
      "2026-03-29T06:59:59.999Z",
      shift("ben", "2026-03-28T19:00:00Z", "2026-03-29T07:00:00Z"),
    ],
    [
      "12h Berlin, after spring forward",
      twelveHours,
      "2026-03-30T07:00:00Z",
      shift("ana", "2026-03-30T07:00:00Z", "2026-03-30T19:00:00Z"),
    ],
    // Kolkata: 09:00 IST is 03:30Z every day.
    [
      "daily Kolkata, just before a half-hour-offset handoff",
      kolkata,
      "2026-02-01T03:29:59.999Z",
      shift("z", "2026-01-31T03:30:00Z", "2026-02-01T03:30:00Z"),
    ],
    [
      "daily Kolkata, at the handoff",
      kolkata,
      "2026-02-01T03:30:00Z",
      shift("x", "2026-02-01T03:30:00Z", "2026-02-02T03:30:00Z"),
    ],
    // Paris 02:30 does not exist on 2026-03-29: luxon moves it forward to 03:30 CEST.
    [
      "daily Paris, the handoff at a missing local time happens at 03:30 CEST",
      paris,
      "2026-03-29T01:30:00Z",
      shift("p", "2026-03-29T01:30:00Z", "2026-03-30T00:30:00Z"),
    ],
    [
      "daily Paris, the next day's handoff is 02:30 CEST again",
      paris,
      "2026-03-30T00:30:00Z",
      shift("q", "2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z"),
    ],
    // Before the start: the first user, in a first shift that reaches back indefinitely.
    [
      "weekly London, before the rotation starts",
      london,
      "2025-12-25T12:00:00Z",
      shift("alice", EARLIEST, "2026-01-12T09:00:00Z"),
    ],
    [
      "weekly London, at the first handoff: still the first shift",
      london,
      "2026-01-05T09:00:00Z",
      shift("alice", EARLIEST, "2026-01-12T09:00:00Z"),
    ],
    [
      "12h Berlin, before the rotation starts",
      twelveHours,
      "2026-03-27T06:59:59.999Z",
      shift("ana", EARLIEST, "2026-03-27T19:00:00Z"),
    ],
  ];
  it.each(cases)("%s", (_name, s, at, expected) => {
    // Prepare
    const instant = new Date(at);
    // Act
    const actual = shiftAt(s, instant);
    // Assess
    expect(actual).toEqual(expected);
    expect(whoIsOnCall(s, instant)).toBe(expected.user);
  });

  it("keeps whole-day handoffs at local time and lets elapsed handoffs drift across DST", () => {
    // Prepare
    const local = (date: Date, zone: string) =>
      DateTime.fromJSDate(date, { zone }).toFormat("HH:mm");
    // Act
    const londonWinter = shiftAt(london, new Date("2026-03-25T12:00:00Z")).start;
    const londonSummer = shiftAt(london, new Date("2026-04-01T12:00:00Z")).start;
    const berlinWinter = shiftAt(twelveHours, new Date("2026-03-28T12:00:00Z")).start;
    const berlinSummer = shiftAt(twelveHours, new Date("2026-03-30T12:00:00Z")).start;
    // Assess
    expect(local(londonWinter, "Europe/London")).toBe("09:00");
    expect(local(londonSummer, "Europe/London")).toBe("09:00");
    expect(local(berlinWinter, "Europe/Berlin")).toBe("08:00");
    expect(local(berlinSummer, "Europe/Berlin")).toBe("09:00");
  });

  it("counts calendar days in the first century too (years 0-99 are not 1900-1999)", () => {
    const early = schedule({ users: ["u1", "u2"], shift: DAY, start: "0099-12-31" });
    expect(whoIsOnCall(early, new Date("0100-01-01T12:00:00Z"))).toBe("u2");
    expect(shiftAt(early, new Date("0100-01-01T12:00:00Z")).start).toEqual(
      new Date("0100-01-01T09:00:00Z"),
    );
  });
});

describe("shiftAt: overrides", () => {
  const frankAtHandoff = schedule({ timezone: "Europe/London" }, [
    { user: "frank", start: "2026-03-30T09:00:00+01:00", end: "2026-04-01T09:00:00+01:00" },
  ]);
  const graceUntilHandoff = schedule({ timezone: "Europe/London" }, [
    { user: "grace", start: "2026-04-03T09:00:00+01:00", end: "2026-04-06T09:00:00+01:00" },
  ]);
  const overlapping = schedule({ timezone: "Europe/London" }, [
    { user: "frank", start: "2026-04-08T00:00:00Z", end: "2026-04-10T00:00:00Z" },
    { user: "grace", start: "2026-04-09T00:00:00Z", end: "2026-04-09T12:00:00Z" },
  ]);
  const overlappingReversed = schedule({ timezone: "Europe/London" }, [
    { user: "grace", start: "2026-04-09T00:00:00Z", end: "2026-04-09T12:00:00Z" },
    { user: "frank", start: "2026-04-08T00:00:00Z", end: "2026-04-10T00:00:00Z" },
  ]);
  const cases: Array<[string, Schedule, string, Shift]> = [
    [
      "the rotation until an override that starts at a handoff",
      frankAtHandoff,
      "2026-03-30T07:59:59.999Z",
      shift("chandra", "2026-03-23T09:00:00Z", "2026-03-30T08:00:00Z"),
    ],
    [
      "an override starting exactly at a handoff covers the handoff",
      frankAtHandoff,
      "2026-03-30T08:00:00Z",
      shift("frank", "2026-03-30T08:00:00Z", "2026-04-01T08:00:00Z", true),
    ],
    [
      "at an override's end the rotation is back, from that instant",
      frankAtHandoff,
      "2026-04-01T08:00:00Z",
      shift("alice", "2026-04-01T08:00:00Z", "2026-04-06T08:00:00Z"),
    ],
    [
      "the rotation's shift is cut short where an override begins",
      graceUntilHandoff,
      "2026-04-02T12:00:00Z",
      shift("alice", "2026-03-30T08:00:00Z", "2026-04-03T08:00:00Z"),
    ],
    [
      "an override ending exactly at a handoff covers the instant before",
      graceUntilHandoff,
      "2026-04-06T07:59:59.999Z",
      shift("grace", "2026-04-03T08:00:00Z", "2026-04-06T08:00:00Z", true),
    ],
    [
      "an override ending exactly at a handoff: the next user takes over",
      graceUntilHandoff,
      "2026-04-06T08:00:00Z",
      shift("bob", "2026-04-06T08:00:00Z", "2026-04-13T08:00:00Z"),
    ],
    [
      "overlapping overrides: the one listed last wins",
      overlapping,
      "2026-04-09T06:00:00Z",
      shift("grace", "2026-04-09T00:00:00Z", "2026-04-09T12:00:00Z", true),
    ],
    [
      "overlapping overrides: the earlier one, cut where the later one begins",
      overlapping,
      "2026-04-08T12:00:00Z",
      shift("frank", "2026-04-08T00:00:00Z", "2026-04-09T00:00:00Z", true),
    ],
    [
      "overlapping overrides: the end of the later one is not covered by it",
      overlapping,
      "2026-04-09T12:00:00Z",
      shift("frank", "2026-04-09T12:00:00Z", "2026-04-10T00:00:00Z", true),
    ],
    [
      "overlapping overrides: listed the other way round, the covering one wins",
      overlappingReversed,
      "2026-04-09T06:00:00Z",
      shift("frank", "2026-04-08T00:00:00Z", "2026-04-10T00:00:00Z", true),
    ],
    [
      "an override written with an offset other than the rotation's zone",
      schedule({}, [
        { user: "grace", start: "2026-02-10T10:00:00+05:30", end: "2026-02-10T12:00:00-08:00" },
      ]),
      "2026-02-10T19:59:59.999Z",
      shift("grace", "2026-02-10T04:30:00Z", "2026-02-10T20:00:00Z", true),
    ],
  ];
  it.each(cases)("%s", (_name, s, at, expected) => {
    // Prepare
    const instant = new Date(at);
    // Act
    const actual = shiftAt(s, instant);
    // Assess
    expect(actual).toEqual(expected);
    expect(whoIsOnCall(s, instant)).toBe(expected.user);
  });
});

describe("shiftAt: properties", () => {
  const from = Date.parse("2024-01-01T00:00:00Z");
  const to = Date.parse("2030-01-01T00:00:00Z");
  const instant = fc.integer({ min: from, max: to });
  const anySchedule = fc.record({
    rotation: fc.record({
      users: fc.uniqueArray(fc.constantFrom("u1", "u2", "u3", "u4"), {
        minLength: 1,
        maxLength: 4,
      }),
      shift: fc.constantFrom(8 * HOUR, 12 * HOUR, 36 * HOUR, DAY, WEEK, 2 * WEEK, 90 * 60),
      handoff: fc
        .tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45))
        .map(([h, m]) => `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`),
      timezone: fc.constantFrom(
        "UTC",
        "Europe/London",
        "Europe/Paris",
        "America/New_York",
        "Asia/Kolkata",
        "Australia/Lord_Howe",
        "America/St_Johns",
      ),
      start: fc
        .integer({ min: from, max: to })
        .map((ms) => new Date(ms).toISOString().slice(0, 10)),
    }),
    overrides: fc.array(
      fc
        .tuple(
          fc.constantFrom("o1", "o2", "u1"),
          instant,
          fc.integer({ min: 1, max: 10 * DAY * 1000 }),
        )
        .map(([user, start, length]) => ({
          user,
          start: new Date(start).toISOString(),
          end: new Date(start + length).toISOString(),
        })),
      { maxLength: 4 },
    ),
  });

  it("always names a rotation or override user", () => {
    fc.assert(
      fc.property(anySchedule, instant, (s, at) => {
        const allowed = [...s.rotation.users, ...s.overrides.map((o) => o.user)];
        expect(allowed).toContain(whoIsOnCall(s, new Date(at)));
      }),
      { numRuns: 1000 },
    );
  });

  it("tiles time: each shift covers the instant, its end starts the next, its start ends the last", () => {
    fc.assert(
      fc.property(
        anySchedule,
        instant,
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (s, at, f) => {
          const current = shiftAt(s, new Date(at));
          const next = shiftAt(s, current.end);
          const inside =
            current.start.getTime() === EARLIEST.getTime()
              ? at
              : current.start.getTime() +
                Math.floor(f * (current.end.getTime() - current.start.getTime()));
          expect(current.start.getTime()).toBeLessThanOrEqual(at);
          expect(current.end.getTime()).toBeGreaterThan(at);
          expect(next.start).toEqual(current.end);
          expect(shiftAt(s, new Date(inside))).toEqual(current);
          if (current.start > EARLIEST) {
            expect(shiftAt(s, new Date(current.start.getTime() - 1)).end).toEqual(current.start);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe("schedules in the config", () => {
  const minimal = `${MINIMAL_CONFIG}users: { alice: { name: Alice }, bob: { name: Bob } }
`;
  const withSchedule = (rotation: string, overrides = "[]") =>
    `${minimal}\nteams: { t: { name: T, schedules: { s: { rotation: { users: [alice, bob], shift: 1w, start: "2026-01-05", ${rotation} }, overrides: ${overrides} } } } }`;

  const problem = configProblem;

  const bad: Array<[string, string, RegExp]> = [
    [
      "a timezone that is not an IANA zone",
      withSchedule("timezone: Europe/Londn"),
      /teams\.t\.schedules\.s\.rotation\.timezone: not an IANA time zone: "Europe\/Londn"/,
    ],
    [
      "a handoff that is not a time of day",
      withSchedule('handoff: "24:30"'),
      /teams\.t\.schedules\.s\.rotation\.handoff: a time of day/,
    ],
    [
      "a start that is not a calendar date",
      withSchedule('start: "2026-02-30"').replace('start: "2026-01-05", ', ""),
      /teams\.t\.schedules\.s\.rotation\.start: not a calendar date/,
    ],
    [
      "a zero shift",
      withSchedule("shift: 0").replace("shift: 1w, ", ""),
      /teams\.t\.schedules\.s\.rotation\.shift: a shift of at least a minute/,
    ],
    [
      "an override that ends before it starts",
      withSchedule(
        "timezone: UTC",
        '[{ user: bob, start: "2026-02-02T09:00:00Z", end: "2026-02-01T09:00:00Z" }]',
      ),
      /teams\.t\.schedules\.s\.overrides\.0\.end: must be later than start/,
    ],
    [
      "an override that ends when it starts",
      withSchedule(
        "timezone: UTC",
        '[{ user: bob, start: "2026-02-01T10:00:00+01:00", end: "2026-02-01T09:00:00Z" }]',
      ),
      /teams\.t\.schedules\.s\.overrides\.0\.end: must be later than start/,
    ],
  ];
  it.each(bad)("refuses %s, naming the field", (_name, text, message) => {
    expect(problem(text)).toMatch(message);
  });

  it("accepts a valid schedule and answers from it", () => {
    // Prepare
    const config = parseConfig(
      withSchedule(
        'timezone: Asia/Kolkata, handoff: "09:30"',
        '[{ user: alice, start: "2026-01-14T00:00:00Z", end: "2026-01-15T00:00:00Z" }]',
      ),
    );
    const s = config.teams.t!.schedules.s!;
    // Act
    const onCall = ["2026-01-12T04:00:00Z", "2026-01-14T12:00:00Z"].map((at) =>
      whoIsOnCall(s, new Date(at)),
    );
    // Assess
    expect(onCall).toEqual(["bob", "alice"]);
  });

  it("answers from the shipped tocsin.yaml", () => {
    // Prepare
    const shipped = parseConfig(
      readFileSync(new URL("../../../tocsin.yaml", import.meta.url), "utf8"),
    );
    const platform = shipped.teams.platform!.schedules;
    const at = new Date("2026-03-30T08:30:00Z"); // 09:30 BST, half an hour after a handoff
    // Act
    const primary = shiftAt(platform.primary!, at);
    const secondary = whoIsOnCall(platform.secondary!, at);
    // Assess
    expect(primary).toEqual(shift("alice", "2026-03-30T08:00:00Z", "2026-04-06T08:00:00Z"));
    expect(secondary).toBe("bob");
  });
});
