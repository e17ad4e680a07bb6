import type { StoreRequest } from "../../functions/adapters/memory/requests.js";

export type { StoreRequest };

/** The store writes a fault can be injected into, by what they write. */
export type StoreWrite = Extract<StoreRequest, "episode" | "create" | "update">;

/**
 * Storage faults by domain name, the same for every store: `episode` (a fingerprint's
 * write), `create` (an incident written), `update` (an incident changed).
 */
export interface StoreFaults {
  /** Fail writes of `kind` as a network fault would: let `skip` through, then fail `times`. */
  failNext(kind: StoreWrite, options?: { skip?: number; times?: number }): void;
  /** Requests that reached the storage, by kind, in order. */
  sent: StoreRequest[];
}

/**
 * A plan of faults and what was sent: `beforeRequest` throws a network-like error for a
 * planned fault (the request never reaches the storage) and records the others.
 */
export function faultPlan(): {
  faults: StoreFaults;
  beforeRequest: (kind: StoreRequest) => void;
} {
  const plans = new Map<StoreRequest, { skip: number; times: number }>();
  const faults: StoreFaults = {
    failNext(kind, { skip = 0, times = 1 } = {}) {
      plans.set(kind, { skip, times });
    },
    sent: [],
  };
  const beforeRequest = (kind: StoreRequest) => {
    const plan = plans.get(kind);
    if (plan && plan.skip > 0) plan.skip--;
    else if (plan && plan.times > 0) {
      plan.times--;
      throw Object.assign(new Error(`injected fault in ${kind}`), { name: "NetworkingError" });
    }
    faults.sent.push(kind);
  };
  return { faults, beforeRequest };
}
