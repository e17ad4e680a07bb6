import type { ThroughputResult, ThroughputSide } from "./report.js";
import { type RequestCounter, total } from "./request-counter.js";
import { type AlertMix, type AlertOperation, interleaved, median } from "./throughput.js";

export interface RateSide {
  /** The operation for one run; `run` keeps new fingerprints unique across runs. */
  operation: (run: string) => AlertOperation;
  counter: RequestCounter;
}

/**
 * Measures both sides `repeats` times over the same mix, alternating in blocks within each
 * run, and compares the median rates.
 */
export async function compareRates(options: {
  mix: AlertMix;
  repeats: number;
  block: number;
  aim: number;
  client: string;
  server: RateSide;
  baseline: RateSide;
  log: (line: string) => void;
}): Promise<ThroughputResult> {
  const { mix, repeats, block } = options;
  const sides = [options.server, options.baseline];
  const rates: number[][] = sides.map(() => []);
  const cpu: number[][] = sides.map(() => []);
  const requests = sides.map(() => 0);
  for (let repeat = 0; repeat < repeats; repeat++) {
    const before = sides.map((side) => side.counter.snapshot());
    const totals = await interleaved(
      sides.map((side, i) => side.operation(`${mix.name}-${repeat}-${i}`)),
      mix,
      block,
    );
    totals.forEach((measured, i) => {
      rates[i]!.push(mix.count / measured.seconds);
      cpu[i]!.push((measured.cpuSeconds * 1e6) / mix.count);
      requests[i]! += total(sides[i]!.counter.since(before[i]!).attempts);
    });
    options.log(
      `  ${mix.name}, run ${repeat + 1}: server ${rates[0]!.at(-1)!.toFixed(0)}/s, baseline ${rates[1]!.at(-1)!.toFixed(0)}/s`,
    );
  }
  const summary = (i: number): ThroughputSide => ({
    runs: rates[i]!,
    median: median(rates[i]!),
    cpuMicrosPerAlert: median(cpu[i]!),
    dynamoRequestsPerAlert: requests[i]! / (mix.count * repeats),
  });
  const server = summary(0);
  const baseline = summary(1);
  const ratio = server.median / baseline.median;
  return {
    alerts: mix.count,
    concurrency: mix.concurrency,
    client: options.client,
    mix: mix.name,
    block,
    server,
    baseline,
    ratio,
    ratioRuns: server.runs.map((rate, i) => rate / baseline.runs[i]!),
    cpuRatio: baseline.cpuMicrosPerAlert / server.cpuMicrosPerAlert,
    aim: options.aim,
    verdict: ratio >= options.aim ? "ok" : "below",
  };
}
