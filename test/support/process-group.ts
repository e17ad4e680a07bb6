import { type ChildProcess, spawn } from "node:child_process";

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ProcessGroup {
  child: ChildProcess;
  /** Everything written so far, stdout and stderr interleaved. */
  output: () => string;
  stdout: () => string;
  stderr: () => string;
  /** Settles when the leader exits. */
  exited: Promise<Exit>;
  hasExited: () => boolean;
  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves once the leader is gone. */
  stop: (graceMs?: number) => Promise<Exit>;
}

/**
 * Spawns `command` as the leader of a new process group, so that `stop` also ends what it
 * started (`npm start` runs sh, which runs tsx, which runs node).
 */
export function spawnProcessGroup(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): ProcessGroup {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let all = "";
  let out = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
    all += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    err += chunk;
    all += chunk;
  });
  let done = false;
  const exited = new Promise<Exit>((resolve) => {
    child.once("error", (error) => {
      all += `\n[spawn failed: ${error.message}]\n`;
      done = true;
      resolve({ code: null, signal: null });
    });
    child.once("exit", (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // The group is already gone.
    }
  };
  return {
    child,
    output: () => all,
    stdout: () => out,
    stderr: () => err,
    exited,
    hasExited: () => done,
    stop: async (graceMs = 5_000) => {
      signalGroup("SIGTERM");
      const timer = setTimeout(() => signalGroup("SIGKILL"), graceMs);
      const exit = await exited;
      clearTimeout(timer);
      // The leader may exit before its children: make sure none is left behind.
      signalGroup("SIGKILL");
      return exit;
    },
  };
}
