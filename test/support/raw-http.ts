import { connect } from "node:net";

export interface RawAnswer {
  /** The status of the first response, or null when the server closed without one. */
  status: number | null;
  /** Everything the server wrote, as latin1 text. */
  text: string;
}

/**
 * Writes `bytes` to the server at `url` over a plain TCP socket, exactly as given (fetch and
 * node:http would refuse or normalise what a hostile client sends), and reads what comes back
 * until the server closes or `idleMs` passes without data. With `hangUp`, the socket is
 * destroyed right after writing, as a client that vanishes mid-request. `from` is the local
 * address to send from (any of 127/8 on Linux).
 */
export function rawRequest(
  url: string,
  bytes: string | Buffer,
  options: { hangUp?: boolean; idleMs?: number; from?: string | undefined } = {},
): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({
      host: hostname,
      port: Number(port),
      ...(options.from ? { localAddress: options.from } : {}),
    });
    const finish = () => {
      socket.destroy();
      const text = Buffer.concat(chunks).toString("latin1");
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: status ? Number(status[1]) : null, text });
    };
    socket.setTimeout(options.idleMs ?? 5_000, finish);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", finish);
    socket.on("close", finish);
    socket.on("error", (error: NodeJS.ErrnoException) =>
      // A reset after the answer (or after our own hang-up) is an answer too.
      error.code === "ECONNRESET" || error.code === "EPIPE" ? finish() : reject(error),
    );
    socket.on("connect", () => {
      socket.write(bytes, () => {
        if (options.hangUp) finish();
      });
    });
  });
}

/** The JSON body of a raw answer (Content-Length or chunked), or undefined. */
export function rawJson(answer: RawAnswer): unknown {
  const split = answer.text.indexOf("\r\n\r\n");
  if (split < 0) return undefined;
  const head = answer.text.slice(0, split).toLowerCase();
  let body = answer.text.slice(split + 4);
  if (head.includes("transfer-encoding: chunked")) {
    let joined = "";
    for (;;) {
      const end = body.indexOf("\r\n");
      const size = Number.parseInt(body.slice(0, end), 16);
      if (!size) break;
      joined += body.slice(end + 2, end + 2 + size);
      body = body.slice(end + 2 + size + 2);
    }
    body = joined;
  }
  try {
    return JSON.parse(Buffer.from(body, "latin1").toString("utf8"));
  } catch {
    return undefined;
  }
}
