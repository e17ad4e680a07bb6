import { vi } from "vitest";

/**
 * Runs `act` with setTimeout and setInterval stopped (vitest's fake timers, never advanced;
 * I/O, promises and Date run as usual): it settles only if nothing in it waits on a timer,
 * such as a sleep before a retry or out a Retry-After. One that does hangs until the test's
 * timeout, which fails it. Real timers are back when it settles.
 */
export async function frozenTimers<T>(act: () => Promise<T>): Promise<T> {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
  try {
    return await act();
  } finally {
    vi.useRealTimers();
  }
}
