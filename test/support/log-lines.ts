import { Logger } from "@aws-lambda-powertools/logger";
import { vi } from "vitest";

/** One JSON log line; Powertools always writes a timestamp. */
export interface LogLine {
  [field: string]: unknown;
  timestamp: string;
  event?: string;
}

/** The JSON lines a real Powertools Logger (INFO) writes to stdout while `run` runs. */
export async function logLines(run: (logger: Logger) => Promise<unknown>): Promise<LogLine[]> {
  const chunks: string[] = [];
  const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    await run(new Logger({ serviceName: "tocsin", logLevel: "INFO" }));
  } finally {
    write.mockRestore();
  }
  return chunks
    .flatMap((chunk) => chunk.split("\n").filter(Boolean))
    .map((line) => JSON.parse(line));
}
