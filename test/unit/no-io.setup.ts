/**
 * The unit project's setup: unit tests are pure, so sockets, servers, child processes and
 * fetch throw here. Reading the repository's files (fixtures, runbooks, examples) stays
 * allowed. Node's built-ins are patched through require, then synced to their ESM exports,
 * so `import { spawn } from "node:child_process"` sees the refusal too.
 */
import { createRequire, syncBuiltinESMExports } from "node:module";

const require = createRequire(import.meta.url);

export const NO_IO = "unit tests do no I/O: move this file to test/integration";

function refuse(what: string) {
  return () => {
    throw new Error(`${NO_IO} (${what})`);
  };
}

const net: typeof import("node:net") = require("node:net");
net.Socket.prototype.connect = refuse("net.Socket.connect");
net.Server.prototype.listen = refuse("net.Server.listen");

const childProcess: Record<string, unknown> = require("node:child_process");
for (const name of ["spawn", "spawnSync", "exec", "execSync", "execFile", "execFileSync", "fork"]) {
  childProcess[name] = refuse(`child_process.${name}`);
}

const dgram: typeof import("node:dgram") = require("node:dgram");
dgram.createSocket = refuse("dgram.createSocket");

globalThis.fetch = refuse("fetch");

syncBuiltinESMExports();
