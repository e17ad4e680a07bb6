import { readFileSync } from "node:fs";
import type { Logger } from "@aws-lambda-powertools/logger";
import pLimit from "p-limit";
import { NamedExecutionRunner } from "./executions.js";
import type { EscalationTaskInput } from "./task-handler.js";

// aws-local-stepfunctions uses Promise.withResolvers (Node 22); Node 20 lacks it.
if (!("withResolvers" in Promise)) {
  Object.assign(Promise, {
    withResolvers<T>() {
      let resolve!: (value: T) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}
const { StateMachine, ExecutionAbortedError, ExecutionTimeoutError } = await import(
  "aws-local-stepfunctions"
);

type Definition = { States: Record<string, { Type: string }> };

/** The definition synthesized from lib/ (npm run definition; a test keeps them equal). */
export function escalationDefinition(): Definition {
  return JSON.parse(readFileSync(new URL("./escalation.asl.json", import.meta.url), "utf8"));
}

export interface LocalEscalationOptions {
  /** The escalation function, as Lambda would run it. */
  handler: (event: EscalationTaskInput) => Promise<unknown>;
  logger: Logger;
  /** Called with every state the engine enters, e.g. to count transitions. */
  onStateEntered?: (incidentId: string, state: string) => void;
  /** How many executions may be in their first Task at once (default LOCAL_START_CONCURRENCY). */
  maxStarting?: number;
}

/** How an execution ended, in Step Functions' terms, and when (ms since the epoch). */
export interface ExecutionEnd {
  name: string;
  status: "succeeded" | "failed" | "timed_out" | "aborted";
  at: number;
}

/** One state an execution entered: its input, and when (ms since the epoch). */
export interface StateEntered {
  execution: string;
  incidentId: string;
  state: string;
  input: unknown;
  at: number;
}

/** How many states entered the engine remembers (the latest; tests wait on them). */
export const STATE_LOG_LIMIT = 10_000;

/**
 * How many new executions the local engine lets into their first Task at once; the others
 * wait to begin, as StartExecution on AWS returns before the execution runs. The engine
 * shares one process with the webhooks: a storm of a thousand new incidents would otherwise
 * run a thousand first Tasks (the first pages) at once, taking the CPU from the delivery
 * still being written, whose answer would wait on them. So the delivery is answered first
 * and the first pages follow, this many at a time. Waiting happens before the execution
 * begins, so no Task's timeout (60 s) counts it.
 */
export const LOCAL_START_CONCURRENCY = 4;

/**
 * Runs the real escalation state machine definition in-process with
 * aws-local-stepfunctions: its Task states call the same handler the Lambda runs, its
 * Wait states really wait. Executions live in this process: they end with it.
 */
export class LocalEscalationEngine extends NamedExecutionRunner {
  private readonly machine: InstanceType<typeof StateMachine>;
  private readonly running = new Map<string, { abort: () => void; done: Promise<unknown> }>();
  /** Execution names ever started: like Step Functions, a name runs once. */
  private readonly started = new Set<string>();
  private readonly taskStates: string[];
  /** Task handlers under way: an aborted execution does not stop the one it was running. */
  private readonly tasks = new Set<Promise<unknown>>();
  /** Admits new executions: each holds a place until its first Task has run. */
  private readonly starting: ReturnType<typeof pLimit>;
  /** How each execution ended, by name; asked for before it ended, settled when it does. */
  private readonly ends = new Map<
    string,
    { promise: Promise<ExecutionEnd>; resolve: (end: ExecutionEnd) => void }
  >();
  /** The latest states entered, oldest first, and who waits for one. */
  private readonly entered: StateEntered[] = [];
  private readonly watchers = new Set<(entry: StateEntered) => boolean>();

  constructor(private readonly options: LocalEscalationOptions) {
    super();
    this.starting = pLimit(options.maxStarting ?? LOCAL_START_CONCURRENCY);
    const definition = escalationDefinition();
    this.machine = new StateMachine(definition as never, {
      validationOptions: { checkArn: false },
    });
    this.taskStates = Object.entries(definition.States)
      .filter(([, state]) => state.Type === "Task")
      .map(([name]) => name);
  }

  /**
   * The Task handlers of one execution; `ran` is told when one of them has finished, and
   * `own` holds those under way.
   */
  private taskHandlers(ran: () => void, own: Set<Promise<unknown>>) {
    const run = (input: EscalationTaskInput) => {
      const task = this.track(this.options.handler(input));
      own.add(task);
      const settled = () => {
        own.delete(task);
        ran();
      };
      task.then(settled, settled);
      return task;
    };
    return Object.fromEntries(this.taskStates.map((name) => [name, run]));
  }

  async stop(incidentId: string): Promise<void> {
    for (const [name, execution] of this.running) {
      if (name === incidentId || name.startsWith(this.resumedName(incidentId, "")))
        execution.abort();
    }
  }

  /** Whether an execution of that name is running now (benchmarks watch escalations stop). */
  isRunning(name: string): boolean {
    return this.running.has(name);
  }

  /** Whether an execution of that name was ever started (tests check that none was). */
  hasStarted(name: string): boolean {
    return this.started.has(name);
  }

  /**
   * Resolves when execution `name` has ended, however it ended, and the Task it was
   * running has finished (an aborted execution does not stop it): nothing it started can
   * act any more. Waits for it to start if it has not; at once if it ended already.
   */
  untilEnded(name: string): Promise<ExecutionEnd> {
    return this.endOf(name).promise;
  }

  /** The latest states entered (up to STATE_LOG_LIMIT), oldest first. */
  statesEntered(): readonly StateEntered[] {
    return this.entered;
  }

  /** The first state entered that `match` accepts: one remembered, or the next one. */
  untilEntered(match: (entry: StateEntered) => boolean): Promise<StateEntered> {
    const seen = this.entered.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      this.watchers.add((entry) => {
        if (!match(entry)) return false;
        resolve(entry);
        return true;
      });
    });
  }

  private endOf(name: string) {
    let end = this.ends.get(name);
    if (!end) {
      let resolve: (end: ExecutionEnd) => void = () => undefined;
      const promise = new Promise<ExecutionEnd>((settle) => {
        resolve = settle;
      });
      end = { promise, resolve };
      this.ends.set(name, end);
    }
    return end;
  }

  private enter(entry: StateEntered): void {
    this.entered.push(entry);
    if (this.entered.length > STATE_LOG_LIMIT) this.entered.shift();
    for (const watcher of this.watchers) if (watcher(entry)) this.watchers.delete(watcher);
    this.options.onStateEntered?.(entry.incidentId, entry.state);
  }

  /** Resolves when every execution has ended (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0)
      await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }

  /** Aborts every execution, and lets the Tasks under way finish (shutdown). */
  async close(): Promise<void> {
    for (const execution of this.running.values()) execution.abort();
    await this.idle();
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
  }

  private track(task: Promise<unknown>): Promise<unknown> {
    this.tasks.add(task);
    const forget = () => this.tasks.delete(task);
    task.then(forget, forget);
    return task;
  }

  protected async startExecution(name: string, input: Record<string, unknown>): Promise<void> {
    if (this.started.has(name)) return;
    this.started.add(name);
    const incidentId = String(input.incidentId);
    // Aborted before it was admitted: it never begins.
    let abort = () => {
      aborted = true;
    };
    let aborted = false;
    let admitted: () => void = () => undefined;
    const firstTaskRan = new Promise<void>((resolve) => {
      admitted = resolve;
    });
    const own = new Set<Promise<unknown>>();
    const begun = this.starting(async () => {
      if (aborted) return undefined;
      const execution = this.machine.run(input as never, {
        overrides: { taskResourceLocalHandlers: this.taskHandlers(admitted, own) as never },
      });
      abort = execution.abort;
      const result = this.follow(execution, name, incidentId);
      // The place is free once the first Task ran, or the execution ended without one.
      await Promise.race([firstTaskRan, result]);
      // Wrapped, so that the place is not held until the execution ends.
      return { result };
    });
    const done = begun
      .then(async (begun): Promise<ExecutionEnd["status"]> => {
        if (!begun) return "aborted";
        await begun.result;
        return "succeeded";
      })
      .catch((error: unknown): ExecutionEnd["status"] => {
        if (error instanceof ExecutionAbortedError) return "aborted";
        this.options.logger.error("escalation execution failed", {
          event: "escalation_failed",
          incidentId,
          error,
        });
        return error instanceof ExecutionTimeoutError ? "timed_out" : "failed";
      })
      .finally(() => this.running.delete(name));
    this.running.set(name, { abort: () => abort(), done });
    void done.then(async (status) => {
      const at = Date.now();
      while (own.size > 0) await Promise.allSettled([...own]);
      this.endOf(name).resolve({ name, status, at });
    });
  }

  /** An execution's result, once the states it entered are logged and reported. */
  private async follow(
    execution: ReturnType<InstanceType<typeof StateMachine>["run"]>,
    name: string,
    incidentId: string,
  ): Promise<unknown> {
    for await (const event of execution.eventLogs) {
      if (event.type === "StateEntered")
        this.enter({
          execution: name,
          incidentId,
          state: event.state.name,
          input: event.state.input,
          at: event.timestamp,
        });
    }
    return execution.result;
  }
}
