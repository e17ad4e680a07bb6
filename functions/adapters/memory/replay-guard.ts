import type { ReplayGuard } from "../../core/replay-guard.js";
import { type MemoryStoreOptions, request } from "./requests.js";

/** Epoch seconds, as DynamoDB's TTL attribute holds them. */
const epochSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/**
 * The replay guard in memory: when each key's window ends. A record whose window is over may
 * be written over, as on DynamoDB (whose TTL deletes lazily). Each request yields one
 * macrotask first, so concurrent callers interleave as they do against DynamoDB; the fault
 * hook sees `create` (remember) and `read` (seen).
 */
export class MemoryReplayGuard implements ReplayGuard {
  private readonly until = new Map<string, number>();

  constructor(private readonly options: MemoryStoreOptions = {}) {}

  async firstSeen(key: string, window: { now: string; until: string }): Promise<boolean> {
    await this.request("create");
    const until = this.until.get(key);
    if (until !== undefined && until >= epochSeconds(window.now)) return false;
    this.until.set(key, epochSeconds(window.until));
    return true;
  }

  async seen(key: string, now: string): Promise<boolean> {
    await this.request("read");
    const until = this.until.get(key);
    return until !== undefined && until >= epochSeconds(now);
  }

  private request(kind: "create" | "read"): Promise<void> {
    return request(this.options, kind);
  }
}
