import { randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { maskPhone } from "../sms/message.js";
import type { EmailMessage } from "./message.js";

/**
 * One message for the local outbox: an email (`kind` absent or "email"), or the text of an
 * SMS or a voice call that SNS or End User Messaging would have carried.
 */
export interface OutboxMessage {
  kind?: "email" | "sms" | "voice" | undefined;
  to: string;
  subject?: string | undefined;
  body: string;
}

/** Somewhere messages go when there is no SNS, SES or End User Messaging: the local mode's mailbox and phone. */
export type Outbox = (message: OutboxMessage) => Promise<void>;
/** Where emails go locally (any Outbox is one). */
export type EmailOutbox = (message: EmailMessage) => Promise<void>;

/**
 * An outbox writing each message as one `.txt` file in `dir` (created if missing), named by
 * time so that `ls` lists them in order, and printing a one-line JSON notice to stdout. The
 * file is the message as the person would get it; its name and the notice show a phone
 * number masked (they are logs).
 */
export function fileOutbox(
  dir: string,
  print: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Outbox {
  return async (message) => {
    await mkdir(dir, { recursive: true });
    const kind = message.kind ?? "email";
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    const shown = kind === "email" ? message.to : maskPhone(message.to);
    const name = kind === "email" ? message.to : `${kind}-${shown.replace(/•/g, "x")}`;
    const file = join(
      dir,
      `${stamp}-${name.replace(/[^A-Za-z0-9.@_+-]/g, "_")}-${randomUUID().slice(0, 8)}.txt`,
    );
    const head =
      kind === "email"
        ? `To: ${message.to}\nSubject: ${message.subject ?? ""}`
        : `To: ${message.to}\nKind: ${kind}`;
    await writeFile(file, `${head}\n\n${message.body}`, "utf8");
    print(
      JSON.stringify(
        kind === "email"
          ? {
              message: "email written to the local outbox",
              to: message.to,
              subject: message.subject,
              file,
            }
          : {
              message: `${kind === "sms" ? "SMS" : "voice call"} written to the local outbox`,
              to: shown,
              file,
            },
      ),
    );
  };
}

/** An outbox that only logs (the local server with `TOCSIN_DATA_DIR=:memory:`), phones masked. */
/**
 * A text with its acknowledgement links' tokens withheld: a token acts for its person, and
 * logs are read by many (the outbox files of a kept data directory hold the whole text).
 */
export const withoutLinkTokens = (text: string) =>
  text.replace(/\/a\/[A-Za-z0-9_.~%-]+/g, "/a/[token withheld from logs]");

export function consoleOutbox(
  log: (message: string, fields: Record<string, unknown>) => void,
): Outbox {
  return async (message) => {
    const kind = message.kind ?? "email";
    if (kind === "email") {
      log("email (local outbox)", {
        event: "email_outbox",
        to: message.to,
        subject: message.subject,
      });
    } else {
      log(`${kind} (local outbox)`, {
        event: `${kind}_outbox`,
        to: maskPhone(message.to),
        body: withoutLinkTokens(message.body),
      });
    }
  };
}

/**
 * Where the local server's texts and calls go without SNS or End User Messaging: files in
 * `<dataDir>/outbox/` (printed one line each), or only the log when data is not kept.
 */
export function localPhoneOutbox(
  dataDir: string,
  logger: { info: (message: string, fields: Record<string, unknown>) => void },
): Outbox {
  return dataDir === ":memory:"
    ? consoleOutbox((message, fields) => logger.info(message, fields))
    : fileOutbox(join(dataDir, "outbox"));
}
