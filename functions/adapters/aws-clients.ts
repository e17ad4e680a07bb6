/**
 * How every AWS SDK client tocsin builds (DynamoDB, Step Functions, SNS, Secrets Manager)
 * talks to its service: bounded connection and request times, a bounded number of attempts,
 * and enough sockets for a delivery's parallel writes. Without these the SDK waits on a hung
 * connection for as long as the function lives, and the caller gets a timeout instead of a
 * 503 it can retry. A test checks that the worst case fits inside every function's timeout.
 */
export interface CallPolicy {
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  maxAttempts: number;
  maxSockets: number;
}

export const AWS_CALL_POLICY: Readonly<CallPolicy> = {
  /** TCP and TLS to a regional endpoint take tens of ms (more when dozens open at once). */
  connectionTimeoutMs: 1_000,
  /** One attempt, connection included: single-item writes take ~10 ms, a 1 MB Query page ~100. */
  requestTimeoutMs: 1_500,
  maxAttempts: 3,
  /** At least the concurrency of a delivery's writes (INGEST_CONCURRENCY), so none queue for a socket. */
  maxSockets: 64,
};

/**
 * The SDK's longest wait before a retry: its throttling backoff (1 s, doubling per retry,
 * jittered below that), which is longer than its other one (50 ms, doubling).
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
 */
const MAX_RETRY_DELAY_MS = (retry: number) => Math.min(20_000, 1_000 * 2 ** retry);

/** The longest one SDK call can take under AWS_CALL_POLICY before it fails: every attempt timed out. */
export function worstCaseCallMs(policy: Readonly<CallPolicy> = AWS_CALL_POLICY): number {
  let total = policy.maxAttempts * policy.requestTimeoutMs;
  for (let retry = 0; retry < policy.maxAttempts - 1; retry++) total += MAX_RETRY_DELAY_MS(retry);
  return total;
}

/** The client configuration that applies AWS_CALL_POLICY: spread it into any SDK client's. */
export function awsClientConfig(policy: Readonly<CallPolicy> = AWS_CALL_POLICY) {
  return {
    maxAttempts: policy.maxAttempts,
    requestHandler: {
      connectionTimeout: policy.connectionTimeoutMs,
      requestTimeout: policy.requestTimeoutMs,
      // Without it the SDK only logs a warning when requestTimeout passes, and waits on.
      throwOnRequestTimeout: true,
      httpAgent: { keepAlive: true, maxSockets: policy.maxSockets },
      httpsAgent: { keepAlive: true, maxSockets: policy.maxSockets },
    },
  };
}

const THROTTLING = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "Throttling",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "LimitExceededException",
]);

/** How Node and the SDK name a request that got no answer. */
const NO_ANSWER = new Set([
  "TimeoutError",
  "NetworkingError",
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/**
 * Whether an SDK call failed because the service could not be reached or could not serve
 * it (a reset or refused connection, a timeout, a 5xx, throttling): retrying later is safe.
 * The SDK has retried these already. A refusal of the request itself (a 4xx, a failed
 * condition) and an error raised before anything was sent (a value the marshaller cannot
 * encode) are not faults: retrying them would fail the same way.
 */
export function isServiceFault(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const sdk = error as Error & {
    code?: string;
    $fault?: string;
    $metadata?: { httpStatusCode?: number; attempts?: number };
  };
  if (THROTTLING.has(error.name) || sdk.$fault === "server") return true;
  const status = sdk.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500 || status === 429;
  // No HTTP answer: a network fault is named so, or carries the attempts the SDK made; an
  // error raised before any attempt (serialising, marshalling) has neither.
  return (
    NO_ANSWER.has(error.name) ||
    (sdk.code !== undefined && NO_ANSWER.has(sdk.code)) ||
    (sdk.$metadata?.attempts ?? 0) > 0
  );
}

/** `Retry-After` of an SDK error's HTTP answer, in ms. */
export function retryAfterMs(error: unknown): number | undefined {
  const headers = (error as { $response?: { headers?: Record<string, string> } })?.$response
    ?.headers;
  const value = headers?.["retry-after"];
  const seconds = value === undefined ? Number.NaN : Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/**
 * An AWS SDK error as a failed delivery: `what` failed, with the error's name, its `Reason`
 * if it has one (End User Messaging's), and its message as `clean` leaves it (phones masked),
 * cut to 200 characters; retryable on a service fault, after its Retry-After if it gave one.
 */
export function awsRefusal(
  error: unknown,
  what: string,
  clean: (text: string) => string = (text) => text,
): { status: "failed"; detail: string; retryable: boolean; retryAfterMs?: number } {
  const name = error instanceof Error ? error.name : "Error";
  const reason = (error as { Reason?: unknown } | null)?.Reason;
  const why = typeof reason === "string" ? ` (${reason})` : "";
  const message =
    error instanceof Error && error.message ? `: ${clean(error.message).slice(0, 200)}` : "";
  const retryable = isServiceFault(error);
  const wait = retryAfterMs(error);
  return {
    status: "failed",
    detail: `${what}: ${name}${why}${message}`,
    retryable,
    ...(retryable && wait !== undefined ? { retryAfterMs: wait } : {}),
  };
}
