import { Logger } from "@aws-lambda-powertools/logger";
import { expect, it } from "vitest";
import { readApi } from "../../functions/api/read-api.js";
import type { IncidentStore } from "../../functions/core/incident-store.js";
import { httpEvent, lambdaContext } from "./http-events.js";
import { at, candidate } from "./incidents.js";
import { fired } from "./lifecycle.js";

const TOKEN = "api-token-for-tests";

export type ReadApiGet = (
  routeKey: string,
  options?: { query?: Record<string, string>; id?: string; token?: string | null },
) => Promise<{ status: number | undefined; body: ReturnType<typeof JSON.parse> }>;

export interface ReadApiClient {
  /** The incidents opened, oldest first: minutes 0-2 critical, 3-6 warning. */
  created: string[];
  /** One request to the read API, with its token unless `token` says otherwise. */
  get: ReadApiGet;
}

/** The read API over `store`, with seven incidents opened a minute apart. */
export async function readApiOver(store: IncidentStore): Promise<ReadApiClient> {
  const created: string[] = [];
  for (let minute = 0; minute < 7; minute++) {
    const c = candidate(`fp-read-${minute}`, at(minute), {
      severity: minute < 3 ? "critical" : "warning",
    });
    await fired(store, c);
    created.push(c.id);
  }
  const handler = readApi({
    store,
    apiToken: () => TOKEN,
    logger: new Logger({ logLevel: "SILENT" }),
  });
  const get: ReadApiGet = async (routeKey, options = {}) => {
    const path = options.id ? `/incidents/${options.id}` : routeKey.split(" ")[1]!;
    const token = options.token === undefined ? TOKEN : options.token;
    const result = await handler(
      httpEvent({
        routeKey,
        path,
        ...(options.query ? { query: options.query } : {}),
        ...(options.id ? { pathParameters: { id: options.id } } : {}),
        headers: token === null ? {} : { authorization: `Bearer ${token}` },
      }),
      lambdaContext,
    );
    return { status: result.statusCode, body: JSON.parse(result.body ?? "null") };
  };
  return { created, get };
}

/** Every store binds a cursor to its listing: one of another listing is a 400. */
export function refusesForeignCursors(get: () => ReadApiGet) {
  it.each([
    ["a listing by status", { status: "triggered" }, { team: "ml-training" }],
    ["a listing by team", { team: "ml-training" }, {}],
    ["the whole list", {}, { severity: "critical" }],
    ["the whole list", {}, { since: at(2) }],
  ])("refuses a cursor of %s in another listing with a 400", async (_, from, to) => {
    const first = await get()("GET /incidents", { query: { ...from, limit: "2" } });
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const { status, body } = await get()("GET /incidents", {
      query: { ...to, limit: "2", cursor: first.body.nextCursor },
    });
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: "invalid_parameter", field: "cursor" });
  });
}
