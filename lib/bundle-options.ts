/**
 * How every Lambda is bundled, in esbuild's terms: TocsinFunction hands these to
 * NodejsFunction, and `npm run bench` (bench/bundles.ts) builds with the same ones to
 * measure what ships. No aws-cdk-lib import here, so the bench can load it cheaply.
 */

/**
 * ESM output has no `require`, but some of our dependencies are CommonJS and call it
 * (esbuild's shim throws "Dynamic require ... is not supported" otherwise). Powertools
 * documents the same banner for ESM bundles.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __tocsinCreateRequire } from 'node:module';" +
  "const require = __tocsinCreateRequire(import.meta.url);";

/**
 * Packages replaced in the bundles, paths relative to the project root (bundling runs
 * there, locally or in Docker): the SDK's default credential chain by the two sources
 * Lambda has, environment variables and the container endpoint.
 */
export const BUNDLE_ALIASES = {
  "@aws-sdk/credential-provider-node": "./functions/adapters/lambda-credentials.ts",
} as const;

export const LAMBDA_BUNDLE = {
  format: "esm",
  target: "node22",
  // Prefer packages' ESM builds: they tree-shake better than their CJS builds.
  mainFields: ["module", "main"],
  banner: ESM_REQUIRE_BANNER,
  minify: true,
  // No keepNames (+33 KB, 7% of a webhook bundle): tocsin's error classes spell out their
  // names. Libraries' classes that take theirs from the constructor (@slack/web-api's
  // errors) log a minified name; their `code` says what happened.
  sourceMap: true,
  // Stack traces need the mappings, not a second copy of every source file.
  sourcesContent: false,
} as const;
