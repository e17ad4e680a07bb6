import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { type ProcessGroup, spawnProcessGroup } from "../test/support/process-group.js";
import { attempt } from "./chaos-http.js";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const STARTUP_TIMEOUT_MS = 60_000;

/** The caller's environment without anything tocsin reads, plus `settings`. */
function environment(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env))
    if (/^(TOCSIN_|SLACK_|PAGERDUTY_|POWERTOOLS_)/.test(name) || name === "PORT" || name === "HOST")
      delete env[name];
  return { ...env, ...settings };
}

/**
 * A free port below the kernel's ephemeral range: the server and its DynamoDB keep their
 * ports across restarts, and no other process's listen(0) can take one while it is down.
 */
export async function portBelowEphemeralRange(random: () => number): Promise<number> {
  let first = 32768;
  try {
    first = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").split(/\s+/)[0]);
  } catch {
    // not Linux: IANA's dynamic range starts at 49152, 32768 is below it too
  }
  const low = Math.max(1024, first - 12_000);
  for (let tries = 0; tries < 100; tries++) {
    const port = low + Math.floor(random() * (first - low));
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once("error", () => resolve(false));
      probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port in ${low}-${first}`);
}

export interface ServerLife {
  /** Date.now() when spawned, when /healthz first answered 200, and when killed (or stopped). */
  spawnedAt: number;
  healthyAt: number | null;
  endedAt: number | null;
  /** Log lines at ERROR level, by message. */
  errors: Record<string, number>;
}

/**
 * `npm start` as a child process group, killed with SIGKILL and started again on the same
 * data and ports, as a crash and a supervisor's restart would. Each life's output is kept
 * in the data directory (`server-<n>.log`).
 */
export class ChaosServer {
  readonly lives: ServerLife[] = [];
  private current: ProcessGroup | undefined;

  constructor(
    private readonly url: string,
    private readonly dataDir: string,
    private readonly settings: Record<string, string>,
  ) {}

  /** Starts `npm start` and resolves once /healthz answers 200. */
  async start(): Promise<void> {
    const life: ServerLife = { spawnedAt: Date.now(), healthyAt: null, endedAt: null, errors: {} };
    this.lives.push(life);
    const child = spawnProcessGroup("npm", ["start"], {
      cwd: REPO,
      env: environment(this.settings),
    });
    this.current = child;
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (child.hasExited())
        throw new Error(`npm start exited during start-up:\n${child.output().slice(-4_000)}`);
      const answer = await attempt(`${this.url}/healthz`, { timeoutMs: 1_000 });
      if (answer.kind === "answer" && answer.status === 200) {
        life.healthyAt = Date.now();
        return;
      }
      await sleep(50);
    }
    throw new Error(`npm start not healthy in ${STARTUP_TIMEOUT_MS} ms:\n${child.output()}`);
  }

  /** SIGKILL to the whole group (npm, sh, tsx, node): no shutdown code runs. */
  async kill(): Promise<void> {
    const child = this.current;
    if (!child?.child.pid) return;
    try {
      process.kill(-child.child.pid, "SIGKILL");
    } catch {
      // already gone
    }
    await child.exited;
    await this.endLife(child);
  }

  /** SIGTERM (a clean stop) at the end of the run. */
  async stop(): Promise<void> {
    const child = this.current;
    if (!child) return;
    await child.stop(10_000);
    await this.endLife(child);
  }

  private async endLife(child: ProcessGroup): Promise<void> {
    const life = this.lives.at(-1)!;
    life.endedAt = Date.now();
    for (const line of child.output().split("\n")) {
      if (!line.startsWith("{")) continue;
      try {
        const entry = JSON.parse(line) as { level?: string; message?: string };
        if (entry.level === "ERROR") {
          const message = entry.message ?? "?";
          life.errors[message] = (life.errors[message] ?? 0) + 1;
        }
      } catch {
        // not a log line
      }
    }
    await writeFile(join(this.dataDir, `server-${this.lives.length}.log`), child.output());
    this.current = undefined;
  }
}
