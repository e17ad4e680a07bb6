import { readFileSync } from "node:fs";
import type { Logger } from "@aws-lambda-powertools/logger";
import { NamedExecutionRunner } from "../core/escalation-runner.js";
import type { EscalationTaskInput } from "../handlers/escalation.js";

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
const { StateMachine, ExecutionAbortedError } = await import("aws-local-stepfunctions");

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
}

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
  private readonly taskHandlers: Record<string, (input: EscalationTaskInput) => Promise<unknown>>;
  /** Task handlers under way: an aborted execution does not stop the one it was running. */
  private readonly tasks = new Set<Promise<unknown>>();

  constructor(private readonly options: LocalEscalationOptions) {
    super();
    const definition = escalationDefinition();
    this.machine = new StateMachine(definition as never, {
      validationOptions: { checkArn: false },
    });
    this.taskHandlers = Object.fromEntries(
      Object.entries(definition.States)
        .filter(([, state]) => state.Type === "Task")
        .map(([name]) => [
          name,
          (input: EscalationTaskInput) => this.track(options.handler(input)),
        ]),
    );
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
    const execution = this.machine.run(input as never, {
      overrides: { taskResourceLocalHandlers: this.taskHandlers as never },
    });
    const incidentId = String(input.incidentId);
    const done = (async () => {
      if (this.options.onStateEntered) {
        for await (const event of execution.eventLogs) {
          if (event.type === "StateEntered")
            this.options.onStateEntered(incidentId, event.state.name);
        }
      }
      return execution.result;
    })()
      .catch((error: unknown) => {
        if (error instanceof ExecutionAbortedError) return;
        this.options.logger.error("escalation execution failed", {
          event: "escalation_failed",
          incidentId,
          error,
        });
      })
      .finally(() => this.running.delete(name));
    this.running.set(name, { abort: execution.abort, done });
  }
}
