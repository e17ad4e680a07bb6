import { DateTime } from "luxon";
import type { Config } from "./config.js";

/** One on-call schedule of a team: a rotation, plus overrides that take precedence over it. */
export type Schedule = Config["teams"][string]["schedules"][string];
type Rotation = Schedule["rotation"];

/** A stretch of time during which one user is on call: `start` inclusive, `end` exclusive. */
export interface Shift {
  user: string;
  start: Date;
  end: Date;
  /** True when the stretch comes from an override rather than from the rotation. */
  override: boolean;
}

const DAY_SECONDS = 86_400;
/** The earliest instant a Date can hold: where the first shift begins (see `shiftAt`). */
const EARLIEST = -8.64e15;

/**
 * The instant of the k-th handoff of a rotation whose shift is a whole number of days: the
 * handoff time of day, on the start date plus k shifts, in the rotation's time zone. Every
 * handoff is resolved on its own day, so a DST change moves no later handoff. A local time
 * that does not exist (spring forward) resolves as luxon does, forward by the gap (02:30
 * becomes 03:30); an ambiguous one (fall back) is luxon's pick of the two instants.
 */
function dailyHandoff(rotation: Rotation, k: number): number {
  const [hour, minute] = rotation.handoff.split(":").map(Number);
  const [year, month, date] = rotation.start.split("-").map(Number);
  const day = calendarDay(year!, month!, date! + (k * rotation.shift) / DAY_SECONDS);
  return DateTime.fromObject(
    {
      year: day.getUTCFullYear(),
      month: day.getUTCMonth() + 1,
      day: day.getUTCDate(),
      hour,
      minute,
    },
    { zone: rotation.timezone },
  ).toMillis();
}

/**
 * A calendar date (a day past the month's end rolls over) as midnight UTC: plain calendar
 * arithmetic, where luxon's UTC DateTimes cost more than the time zone's handoff itself.
 * setUTCFullYear, not Date.UTC, which would read years 0-99 as 1900-1999.
 */
function calendarDay(year: number, month: number, day: number): Date {
  const at = new Date(0);
  at.setUTCFullYear(year, month - 1, day);
  return at;
}

/**
 * Milliseconds since the epoch of an ISO-8601 date-time with an offset (the config's
 * overrides, which it checks with Date.parse too).
 */
function instant(iso: string): number {
  return Date.parse(iso);
}

/** The index of the rotation shift covering `at` (0 before the first handoff) and its bounds. */
function rotationShift(rotation: Rotation, at: number): { k: number; start: number; end: number } {
  let handoff: (k: number) => number;
  let k: number;
  const first = dailyHandoff(rotation, 0);
  if (Number.isNaN(first))
    throw new RangeError(`not a usable rotation: ${JSON.stringify(rotation)}`);
  if (rotation.shift % DAY_SECONDS === 0) {
    // Calendar shifts: count local dates from the start date, then settle on the handoff.
    handoff = (i) => dailyHandoff(rotation, i);
    const local = DateTime.fromMillis(at, { zone: rotation.timezone });
    const [year, month, date] = rotation.start.split("-").map(Number);
    const startDay = calendarDay(year!, month!, date!).getTime();
    const localDay = calendarDay(local.year, local.month, local.day).getTime();
    const days = Math.round((localDay - startDay) / 86_400_000);
    k = Math.max(0, Math.floor((days * DAY_SECONDS) / rotation.shift));
    while (k > 0 && handoff(k) > at) k--;
    while (handoff(k + 1) <= at) k++;
  } else {
    // Elapsed shifts (8h, 12h, 36h): fixed durations from the first handoff, DST or not.
    handoff = (i) => first + i * rotation.shift * 1000;
    k = Math.max(0, Math.floor((at - first) / (rotation.shift * 1000)));
  }
  return { k, start: k === 0 ? EARLIEST : handoff(k), end: handoff(k + 1) };
}

/**
 * The shift covering `at`: who is on call, from when until when, and whether an override
 * put them there.
 *
 * - The rotation's first handoff is on `start` at `handoff` local time in `timezone`; users
 *   then take turns in list order. A shift of whole days hands off at the same local time
 *   every time (so it lasts 23 or 25 hours across a DST change); any other shift is a fixed
 *   elapsed duration (so its local handoff time moves by an hour across a DST change).
 * - Before the first handoff the first user is on call: the first shift reaches back to the
 *   earliest instant a Date can hold, so shifts tile all of time.
 * - An override covers `start` (inclusive) to `end` (exclusive) and replaces the rotation;
 *   where overrides overlap, the one listed last wins (one that does not end after it starts
 *   covers nothing; the config refuses it). The returned stretch is clipped to where its
 *   source wins, so `shiftAt(s, shift.end).start` equals `shift.end`.
 */
export function shiftAt(schedule: Schedule, at: Date): Shift {
  const t = at.getTime();
  if (Number.isNaN(t)) throw new RangeError("not a valid instant");
  const { rotation } = schedule;
  const layers = schedule.overrides
    .map((o) => ({ user: o.user, start: instant(o.start), end: instant(o.end) }))
    .filter((o) => o.start < o.end);
  const winner = layers.findLastIndex((o) => o.start <= t && t < o.end);
  let shift: { user: string; start: number; end: number };
  if (winner >= 0) {
    shift = { ...layers[winner]! };
  } else {
    const { k, start, end } = rotationShift(rotation, t);
    shift = { user: rotation.users[k % rotation.users.length]!, start, end };
  }
  // Overrides above the winner do not cover `at`: each lies wholly before or after it.
  for (const above of layers.slice(winner + 1)) {
    if (above.end <= t) shift.start = Math.max(shift.start, above.end);
    else shift.end = Math.min(shift.end, above.start);
  }
  return {
    user: shift.user,
    start: new Date(shift.start),
    end: new Date(shift.end),
    override: winner >= 0,
  };
}

/** The id of the user on call at `at` (see `shiftAt` for the rules). */
export function whoIsOnCall(schedule: Schedule, at: Date): string {
  return shiftAt(schedule, at).user;
}
