import { Logger } from "@aws-lambda-powertools/logger";
import { vi } from "vitest";

/** One JSON log line; Powertools always writes a timestamp. */
export interface LogLine {
  [field: string]: unknown;
  timestamp: string;
  event?: string;
}

/**
 * The JSON lines a real Powertools Logger (INFO) writes while `run` runs: to stdout, and
 * to stderr for warnings and errors.
 */
export async function logLines(run: (logger: Logger) => Promise<unknown>): Promise<LogLine[]> {
  const chunks: string[] = [];
  const capture = (chunk: unknown) => {
    chunks.push(String(chunk));
    return true;
  };
  const writes = [
    vi.spyOn(process.stdout, "write").mockImplementation(capture),
    vi.spyOn(process.stderr, "write").mockImplementation(capture),
  ];
  try {
    await run(new Logger({ serviceName: "tocsin", logLevel: "INFO" }));
  } finally {
    for (const write of writes) write.mockRestore();
  }
  return chunks
    .flatMap((chunk) => chunk.split("\n").filter(Boolean))
    .map((line) => JSON.parse(line));
}
