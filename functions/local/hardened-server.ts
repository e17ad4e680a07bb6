import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from "node:http";
import type { Duplex } from "node:stream";

/** How long a client may take to send its headers, and its whole request (as API Gateway's 30 s). */
export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 30_000;

/** The answer Node's HTTP parser errors get: JSON like every other refusal. */
function clientErrorStatus(code: string | undefined): [number, string] {
  if (code === "HPE_HEADER_OVERFLOW") return [431, "the request headers are too large"];
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") return [408, "the request took too long to arrive"];
  return [400, "the request is not valid HTTP/1.1"];
}

/**
 * An HTTP server that bounds how long a client may hold a connection (headers within
 * `headersTimeoutMs`, the whole request within `requestTimeoutMs`, checked every tenth of
 * the headers' time) and answers what Node's parser refuses (a malformed request line,
 * header or chunk, an Expect it cannot meet) with a JSON 4xx instead of a bare one.
 */
export function hardenedServer(
  listener: (request: IncomingMessage, response: ServerResponse) => void,
  {
    headersTimeoutMs = HEADERS_TIMEOUT_MS,
    requestTimeoutMs = REQUEST_TIMEOUT_MS,
    log,
  }: {
    headersTimeoutMs?: number;
    requestTimeoutMs?: number;
    /** Where an error of the listening server goes (one that would otherwise end the process). */
    log?: { error(message: string, fields: Record<string, unknown>): void };
  } = {},
): Server {
  const server = createServer(
    {
      headersTimeout: headersTimeoutMs,
      requestTimeout: requestTimeoutMs,
      connectionsCheckingInterval: Math.max(10, Math.floor(headersTimeoutMs / 10)),
      // The bridge answers a missing Host itself, in JSON, rather than Node's empty 400.
      requireHostHeader: false,
    },
    listener,
  );
  // An accept that fails (EMFILE when a flood of connections uses up the descriptors) is an
  // 'error' on the server: without a listener it would end the process. It keeps listening.
  server.on("error", (error: NodeJS.ErrnoException) => {
    if (server.listening) log?.error("local server error", { event: "local_server_error", error });
  });
  // The response under way on each connection: a parser error after its headers went out
  // (say, in the next pipelined request) can only close the connection.
  const answering = new WeakMap<Duplex, ServerResponse>();
  server.on("request", (request: IncomingMessage, response: ServerResponse) =>
    answering.set(request.socket, response),
  );
  // Node answers an Expect other than 100-continue with a bare 417 unless someone does.
  server.on("checkExpectation", (_: IncomingMessage, response: ServerResponse) => {
    const body = JSON.stringify({
      error: "expectation_failed",
      message: "only Expect: 100-continue is understood",
    });
    response.on("error", () => undefined);
    response.writeHead(417, {
      "content-type": "application/json; charset=utf-8",
      connection: "close",
    });
    response.end(body);
  });
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    socket.on("error", () => undefined);
    if (error.code === "ECONNRESET" || !socket.writable || answering.get(socket)?.headersSent) {
      socket.destroy();
      return;
    }
    const [status, message] = clientErrorStatus(error.code);
    const body = JSON.stringify({ error: "bad_request", message });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  return server;
}
