/** What an acknowledgement link lets its holder do: act on one incident as one person. */
export interface LinkClaims {
  incidentId: string;
  userId: string;
  action: "acknowledge" | "resolve";
  /** Unix seconds after which the link is refused. */
  expiresAt: number;
}

/**
 * Makes the full URL of a signed acknowledgement link (GET/POST /a/{token}) at `now`;
 * undefined where links are not configured (no key or no public URL), so messages go
 * without them.
 */
export type LinkMaker = (
  claims: { incidentId: string; userId: string; action: "acknowledge" | "resolve" },
  now: string,
) => string | undefined;
