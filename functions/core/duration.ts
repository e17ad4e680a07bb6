const UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
const DURATION = /^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/**
 * Parses a Prometheus-style duration (`90s`, `15m`, `1h30m`, `2w`, or `0`) into seconds.
 * Returns null when the text is not a duration.
 */
export function parseDuration(text: string): number | null {
  if (text === "0") return 0;
  const match = DURATION.exec(text);
  if (!match || text === "") return null;
  const [, w, d, h, m, s] = match;
  const parts: Array<[string | undefined, string]> = [
    [w, "w"],
    [d, "d"],
    [h, "h"],
    [m, "m"],
    [s, "s"],
  ];
  return parts.reduce((total, [value, unit]) => total + Number(value ?? 0) * UNITS[unit]!, 0);
}
