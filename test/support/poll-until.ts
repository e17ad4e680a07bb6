import { setTimeout as sleep } from "node:timers/promises";

export interface PollOptions {
  /** What is awaited, for the error message ("three incidents in tocsin"). */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /** Extra context for a timeout, e.g. the logs of a child process. */
  diagnostics?: () => string;
}

/**
 * Calls `probe` until it returns something other than undefined, or fails after the deadline
 * with the last value or error seen. Probes that throw are retried (the server may not be up).
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  options: PollOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = "the condition was not met";
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      const seen = last instanceof Error ? last.message : String(last);
      const extra = options.diagnostics ? `\n${options.diagnostics()}` : "";
      throw new Error(
        `timed out after ${options.timeoutMs} ms waiting for ${options.what} (last: ${seen})${extra}`,
        { cause: last },
      );
    }
    await sleep(options.intervalMs ?? 200);
  }
}

/** Waits until `condition` holds, checking every `intervalMs` (default 50). */
export function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs: number,
  intervalMs = 50,
): Promise<true> {
  return pollUntil(async () => ((await condition()) ? true : undefined), {
    what,
    timeoutMs,
    intervalMs,
  });
}

/**
 * `promise`'s value, or a failure naming `what` after `timeoutMs`: a bound for failing on a
 * loaded machine, never a wait (it ends as soon as the promise does).
 */
export async function within<T>(
  promise: Promise<T>,
  what: string,
  timeoutMs: number,
  diagnostics?: () => string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const extra = diagnostics ? `\n${diagnostics()}` : "";
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${extra}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
