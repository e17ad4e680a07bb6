import { StoreUnavailableError } from "../../core/errors.js";

/** What a memory store's request is, as its fault hook sees it. */
export type StoreRequest = "episode" | "create" | "update" | "read" | "query";

export interface MemoryStoreOptions {
  /**
   * Runs before each request; throwing fails the request (as a network fault would) before
   * it changes anything. Tests inject storage faults with it.
   */
  beforeRequest?: ((kind: StoreRequest) => void) | undefined;
}

/**
 * The start of one request of a memory store: one macrotask, so that concurrent callers
 * interleave between requests as they do against DynamoDB, then the fault hook. A fault is
 * StoreUnavailableError, as DynamoDB's are.
 */
export async function request(options: MemoryStoreOptions, kind: StoreRequest): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  try {
    options.beforeRequest?.(kind);
  } catch (error) {
    throw new StoreUnavailableError(`memory store: ${kind} failed`, { cause: error });
  }
}
