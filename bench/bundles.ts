/**
 * What each Lambda ships and what loading it costs (issue 7): every functions/entry/*.ts that
 * exports `handler` is bundled with esbuild as lib/constructs/tocsin-function.ts bundles it,
 * then measured: minified and gzip bytes, the packages that weigh most in the output, and the
 * wall time of `node -e "await import(bundle)"` against bare `node`, in the environment the
 * function has on Lambda. A measurement, not a gate: over-aim figures are reported, not thrown.
 * Not wired into `npm run bench` here: bench/run.ts calls measureBundles().
 */

import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { build, type Metafile } from "esbuild";
import { readServiceSnapshot } from "../functions/adapters/config-file.js";
import { BUNDLE_ALIASES, LAMBDA_BUNDLE } from "../lib/bundle-options.js";

const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));
const ENTRY_DIR = "functions/entry";

/** Issue 7's aim for the webhook functions. KB here is 1,000 bytes. */
export const AIM_MINIFIED_BYTES = 400_000;
export const AIM_IMPORT_OVERHEAD_MS = 100;

/** Its bytes, and its dependencies' (aws-xray-sdk-core, cls-hooked, semver), are reported apart. */
const TRACER_PACKAGE = "@aws-lambda-powertools/tracer";

const DUMMY_SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x";

export interface PackageWeight {
  name: string;
  bytes: number;
}

export interface Timing {
  median: number;
  p90: number;
}

export interface BundleMeasurement {
  name: string;
  minifiedBytes: number;
  gzipBytes: number;
  /** The three packages with the most bytes in the output; first-party code is "tocsin". */
  largestPackages: PackageWeight[];
  /** Bytes there only for Powertools Tracer (it, the X-Ray SDK and their dependencies). */
  tracerBytes: number;
  /** Wall time of `node -e "await import(bundle)"`, ms. */
  importMs: Timing;
  /** Median of the per-round differences with the bare `node` run of the same round, ms. */
  overheadMs: number;
  /** The same with NODE_OPTIONS=--enable-source-maps, which TocsinFunction leaves off. */
  sourceMapsOverheadMs: number;
}

export interface BundleResult {
  runs: number;
  /** Wall time of bare `node --input-type=module -e ""`, ms. */
  bareNodeMs: Timing;
  /** Importing a one-line ESM file, over bare node: the floor of any bundle's figure, ms. */
  emptyModuleOverheadMs: number;
  functions: BundleMeasurement[];
  seconds: number;
}

export interface BundleOptions {
  /** Timed imports of each bundle, and of bare node, interleaved. */
  runs?: number;
  log?: (line: string) => void;
}

/** The entry points Lambda runs: the files of functions/entry that export `handler`. */
async function handlerEntries(): Promise<string[]> {
  const dir = join(PROJECT_ROOT, ENTRY_DIR);
  const names: string[] = [];
  for (const file of (await readdir(dir)).sort()) {
    if (!file.endsWith(".ts")) continue;
    const source = await readFile(join(dir, file), "utf8");
    if (/^export\s+(const|let|var|async\s+function|function)\s+handler\b/m.test(source))
      names.push(file.slice(0, -".ts".length));
  }
  return names;
}

/** node_modules/@scope/name/… → "@scope/name"; the innermost node_modules wins. */
export function packageOf(input: string): string {
  const path = input.replace(/^\(disabled\):/, "").replaceAll("\\", "/");
  const at = path.lastIndexOf("node_modules/");
  if (at < 0) return "tocsin";
  const parts = path.slice(at + "node_modules/".length).split("/");
  return parts[0]?.startsWith("@") ? `${parts[0]}/${parts[1]}` : (parts[0] ?? "tocsin");
}

function largestPackages(metafile: Metafile, outfile: string, top = 3): PackageWeight[] {
  const output = Object.entries(metafile.outputs).find(([path]) => path.endsWith(outfile));
  if (!output) throw new Error(`metafile has no output ${outfile}`);
  const weights = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output[1].inputs)) {
    const name = packageOf(input);
    weights.set(name, (weights.get(name) ?? 0) + bytesInOutput);
  }
  return [...weights]
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, top);
}

/**
 * The bytes in the output that only `pkg` brings: those of the inputs no longer reachable
 * from the entry point once `pkg`'s own files are left out of the import graph.
 */
function bytesOnlyFor(metafile: Metafile, outfile: string, pkg: string): number {
  const output = Object.entries(metafile.outputs).find(([path]) => path.endsWith(outfile))?.[1];
  if (!output?.entryPoint) throw new Error(`metafile has no entry output ${outfile}`);
  const reachable = new Set<string>();
  const pending = [output.entryPoint];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    if (reachable.has(path) || packageOf(path) === pkg) continue;
    reachable.add(path);
    for (const imported of metafile.inputs[path]?.imports ?? []) {
      if (!imported.external) pending.push(imported.path);
    }
  }
  return Object.entries(output.inputs)
    .filter(([input]) => !reachable.has(input))
    .reduce((sum, [, { bytesInOutput }]) => sum + bytesInOutput, 0);
}

/** The esbuild options NodejsFunction derives from TocsinFunction's `bundling`. */
async function bundle(name: string, outdir: string) {
  const outfile = join(outdir, name, "index.mjs");
  const result = await build({
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [join(PROJECT_ROOT, ENTRY_DIR, `${name}.ts`)],
    outfile,
    bundle: true,
    platform: "node",
    format: LAMBDA_BUNDLE.format,
    target: LAMBDA_BUNDLE.target,
    mainFields: [...LAMBDA_BUNDLE.mainFields],
    banner: { js: LAMBDA_BUNDLE.banner },
    minify: LAMBDA_BUNDLE.minify,
    sourcemap: LAMBDA_BUNDLE.sourceMap,
    sourcesContent: LAMBDA_BUNDLE.sourcesContent,
    alias: BUNDLE_ALIASES,
    // bundleAwsSDK: true and externalModules: [], so nothing is left out.
    external: [],
    metafile: true,
    logLevel: "error",
  });
  const code = await readFile(outfile);
  return {
    outfile,
    minifiedBytes: code.byteLength,
    gzipBytes: gzipSync(code).byteLength,
    largestPackages: largestPackages(result.metafile, `${name}/index.mjs`),
    tracerBytes: bytesOnlyFor(result.metafile, `${name}/index.mjs`, TRACER_PACKAGE),
  };
}

/**
 * What the function's process has on Lambda at cold start (tracing on): its table, the token secrets'
 * ARNs (read lazily, so nothing is fetched at import) and the config beside the code; no
 * Slack or PagerDuty secret ARNs, which the escalation function would read at import.
 * No NODE_OPTIONS, as TocsinFunction sets none. Nothing is inherited from this process.
 */
function lambdaEnvironment(snapshot: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "",
    AWS_REGION: "eu-west-1",
    TABLE_NAME: "t",
    WEBHOOK_TOKEN_SECRET_ARN: DUMMY_SECRET_ARN,
    API_TOKEN_SECRET_ARN: DUMMY_SECRET_ARN,
    // The owed-mirrors function refuses to start without its state machine, as on Lambda.
    STATE_MACHINE_ARN: "arn:aws:states:eu-west-1:123456789012:stateMachine:tocsin-escalation",
    TOCSIN_CONFIG: snapshot,
    // Lambda's own: Powertools Tracer is on (it patches http and https as it loads).
    AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
    LAMBDA_TASK_ROOT: dirname(snapshot),
    // Lambda runs nodejs22.x; this bench may run on Node 20, which the SDK warns about.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
}

/** Runs `node --input-type=module -e script`; its wall time in ms, or throws if it failed. */
function timeNode(script: string, env: NodeJS.ProcessEnv): number {
  const started = performance.now();
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    env,
    cwd: tmpdir(),
    encoding: "utf8",
  });
  const ms = performance.now() - started;
  if (run.status !== 0)
    throw new Error(`node -e ${script} exited ${run.status ?? run.signal}: ${run.stderr}`);
  return ms;
}

const importScript = (file: string) => `await import(${JSON.stringify(pathToFileURL(file).href)})`;

function timing(values: number[]): Timing {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ??
    Number.NaN;
  const round = (v: number) => Math.round(v * 10) / 10;
  return { median: round(at(0.5)), p90: round(at(0.9)) };
}

export async function measureBundles(options: BundleOptions = {}): Promise<BundleResult> {
  const runs = options.runs ?? 15;
  const log = options.log ?? (() => undefined);
  const started = performance.now();
  const names = await handlerEntries();
  const outdir = await mkdtemp(join(tmpdir(), "tocsin-bundles-"));
  try {
    log(`bundles: building ${names.join(", ")} ...`);
    const built = await Promise.all(names.map((name) => bundle(name, outdir)));
    // What TocsinFunction puts beside each index.mjs: the config and runbooks as JSON.
    const snapshot = join(outdir, "tocsin.json");
    await writeFile(
      snapshot,
      JSON.stringify(readServiceSnapshot(join(PROJECT_ROOT, "tocsin.yaml"))),
    );
    const env = lambdaEnvironment(snapshot);
    const withSourceMaps = { ...env, NODE_OPTIONS: "--enable-source-maps" };
    const emptyModule = join(outdir, "empty.mjs");
    await writeFile(emptyModule, "export const handler = () => undefined;\n");

    // One untimed round: warms the file cache, and checks each bundle loads to a handler.
    timeNode("", env);
    for (const [i, name] of names.entries()) {
      const url = JSON.stringify(pathToFileURL(built[i]!.outfile).href);
      timeNode(
        `const m = await import(${url}); if (typeof m.handler !== "function") throw new Error("${name}: no handler");`,
        env,
      );
    }

    log(`bundles: ${runs} cold imports of each, interleaved with bare node ...`);
    const bare: number[] = [];
    const empty: number[] = [];
    const imports = names.map(() => [] as number[]);
    const overheads = names.map(() => [] as number[]);
    const mapped = names.map(() => [] as number[]);
    for (let round = 0; round < runs; round++) {
      const bareMs = timeNode("", env);
      bare.push(bareMs);
      empty.push(timeNode(importScript(emptyModule), env) - bareMs);
      // Rotate the order so no bundle always runs right after bare node.
      for (let k = 0; k < names.length; k++) {
        const i = (round + k) % names.length;
        const ms = timeNode(importScript(built[i]!.outfile), env);
        imports[i]!.push(ms);
        overheads[i]!.push(ms - bareMs);
        mapped[i]!.push(timeNode(importScript(built[i]!.outfile), withSourceMaps) - bareMs);
      }
    }

    return {
      runs,
      bareNodeMs: timing(bare),
      emptyModuleOverheadMs: timing(empty).median,
      functions: names.map((name, i) => ({
        name,
        minifiedBytes: built[i]!.minifiedBytes,
        gzipBytes: built[i]!.gzipBytes,
        largestPackages: built[i]!.largestPackages,
        tracerBytes: built[i]!.tracerBytes,
        importMs: timing(imports[i]!),
        overheadMs: timing(overheads[i]!).median,
        sourceMapsOverheadMs: timing(mapped[i]!).median,
      })),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;
const isWebhook = (name: string) => name.endsWith("-webhook");

export function bundlesMarkdown(result: BundleResult): string {
  const rows = result.functions.map((f) =>
    [
      f.name,
      kb(f.minifiedBytes),
      kb(f.gzipBytes),
      f.largestPackages.map((p) => `${p.name} ${kb(p.bytes)}`).join(", "),
      kb(f.tracerBytes),
      `${f.importMs.median} / ${f.importMs.p90}`,
      `${f.overheadMs.toFixed(1)}`,
      `${f.sourceMapsOverheadMs.toFixed(1)}`,
    ].join(" | "),
  );
  const aims = result.functions.filter((f) => isWebhook(f.name));
  const verdict = (ok: boolean) => (ok ? "ok" : "over");
  return [
    `### Lambda bundles (esbuild as TocsinFunction bundles them; ${result.runs} cold imports each, interleaved with bare node)`,
    "",
    "| function | minified | gzip | largest packages (bytes in output) | of which tracing only | import median / p90 ms | over bare node ms | with --enable-source-maps ms |",
    "|---|---|---|---|---|---|---|---|",
    ...rows.map((row) => `| ${row} |`),
    "",
    `Bare \`node --input-type=module -e ""\`: median ${result.bareNodeMs.median} ms, p90 ${result.bareNodeMs.p90} ms. Import times are the wall time of \`node --input-type=module -e "await import(bundle)"\` with Lambda's environment (TABLE_NAME, token secret ARNs, TOCSIN_CONFIG; no Slack or PagerDuty secrets); "over bare node" is the median of each round's difference with that round's bare run; the last column sets NODE_OPTIONS=--enable-source-maps, as one would to debug. A one-line ESM file imports in +${result.emptyModuleOverheadMs.toFixed(1)} ms over bare node: no bundle can do better. KB = 1,000 bytes; gzip at zlib's default level.`,
    "",
    `Aim (issue 7), webhook functions ≤ ${kb(AIM_MINIFIED_BYTES)} minified and ≤ ${AIM_IMPORT_OVERHEAD_MS} ms import over bare node:`,
    ...aims.map(
      (f) =>
        `- ${f.name}: ${kb(f.minifiedBytes)} (${verdict(f.minifiedBytes <= AIM_MINIFIED_BYTES)}; ${kb(f.minifiedBytes - f.tracerBytes)} without the ${kb(f.tracerBytes)} that only Powertools Tracer brings), +${f.overheadMs.toFixed(1)} ms (${verdict(f.overheadMs <= AIM_IMPORT_OVERHEAD_MS)})`,
    ),
    "",
    `Measured in ${result.seconds.toFixed(1)} s.`,
  ].join("\n");
}
