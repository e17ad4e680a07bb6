import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { type Config, validateConfig } from "../core/config.js";
import { InvalidConfigError } from "../core/errors.js";
import { parseConfig, readConfigDocument } from "../core/yaml-files.js";
import { readRunbookSources } from "./runbook-files.js";
import {
  type ServiceFiles,
  type ServiceSnapshot,
  serviceFromSnapshot,
} from "./service-snapshot.js";

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new InvalidConfigError(
      `cannot read the config file ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      { cause: error },
    );
  }
}

/** Reads and validates the config file; InvalidConfigError names the file and the field. */
export function loadConfigFile(path: string): Config {
  return parseConfig(readText(path), path);
}

/**
 * The config file and the runbooks it points at, parsed but not validated: what
 * `loadServiceFiles` validates, and what a Lambda bundle carries as JSON.
 */
export function readServiceSnapshot(configPath: string): ServiceSnapshot {
  const config = readConfigDocument(readText(configPath), configPath);
  // The runbooks' folder is only known once the config is valid.
  const { runbooks } = validateConfig(config, configPath);
  return { config, runbooks: readRunbookSources(resolve(dirname(configPath), runbooks.dir)) };
}

/** The config and the runbooks it points at, validated: what a cold start reads once. */
export function loadServiceFiles(configPath: string): ServiceFiles {
  return serviceFromSnapshot(readServiceSnapshot(configPath), configPath);
}
