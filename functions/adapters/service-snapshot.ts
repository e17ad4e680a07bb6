import { readFileSync } from "node:fs";
import { type Config, validateConfig } from "../core/config.js";
import { InvalidConfigError } from "../core/errors.js";
import { type RunbookDefinition, type RunbookSource, validateRunbook } from "../core/runbook.js";

/**
 * tocsin.yaml and the runbooks as parsed documents, not yet validated. `npm start` reads
 * them from the YAML files (config-file.ts); a Lambda bundle carries them as one JSON file,
 * written at synth (lib/constructs/tocsin-function.ts), so that it needs no YAML parser.
 */
export interface ServiceSnapshot {
  config: unknown;
  runbooks: RunbookSource[];
}

/** What a cold start reads once: the config and the runbooks it points at. */
export interface ServiceFiles {
  config: Config;
  runbooks: RunbookDefinition[];
}

/** Validates a snapshot; InvalidConfigError names the file and the field. */
export function serviceFromSnapshot(snapshot: ServiceSnapshot, source: string): ServiceFiles {
  return {
    config: validateConfig(snapshot.config, source),
    runbooks: snapshot.runbooks.map(validateRunbook),
  };
}

/** Reads and validates the JSON snapshot a Lambda bundle carries. */
export function loadServiceSnapshot(path: string): ServiceFiles {
  let snapshot: ServiceSnapshot;
  try {
    snapshot = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new InvalidConfigError(`cannot read the service snapshot ${path}: ${error}`, {
      cause: error,
    });
  }
  return serviceFromSnapshot(snapshot, path);
}
