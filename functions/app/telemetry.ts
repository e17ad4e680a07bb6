/**
 * Counts and timings about the service itself (port; adapters in functions/adapters/metrics).
 * Names are snake_case domain words; each adapter turns them into its own metric names.
 * Dimensions stay few-valued (a source, a severity, a channel type): never an id.
 * Never throws: telemetry must not fail the work it measures.
 */
export interface Telemetry {
  count(name: string, value: number, dimensions?: Record<string, string>): void;
  timing(name: string, ms: number, dimensions?: Record<string, string>): void;
}

/** Telemetry that records nothing (tests and callers that do not measure). */
export const noTelemetry: Telemetry = { count: () => undefined, timing: () => undefined };
