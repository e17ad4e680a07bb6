import { randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { EmailMessage } from "./message.js";

/** Somewhere emails go when there is no SNS topic: the local mode's stand-in for a mailbox. */
export type EmailOutbox = (message: EmailMessage) => Promise<void>;

/**
 * An outbox writing each email as one `.txt` file in `dir` (created if missing), named by
 * time so that `ls` lists them in order, and printing a one-line JSON notice to stdout.
 */
export function fileOutbox(
  dir: string,
  print: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): EmailOutbox {
  return async (message) => {
    await mkdir(dir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    const to = message.to.replace(/[^A-Za-z0-9.@_-]/g, "_");
    const file = join(dir, `${stamp}-${to}-${randomUUID().slice(0, 8)}.txt`);
    await writeFile(
      file,
      `To: ${message.to}\nSubject: ${message.subject}\n\n${message.body}`,
      "utf8",
    );
    print(
      JSON.stringify({
        message: "email written to the local outbox",
        to: message.to,
        subject: message.subject,
        file,
      }),
    );
  };
}
