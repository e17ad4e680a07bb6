import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { InvalidConfigError } from "../core/errors.js";
import { parseRunbook, type RunbookDefinition } from "../core/runbook.js";

/** Reads and validates every `*.md` runbook in `dir`, sorted by file name. */
export function loadRunbooks(dir: string): RunbookDefinition[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter(
      (file) => file.endsWith(".md") && file.toLowerCase() !== "readme.md",
    );
  } catch (error) {
    throw new InvalidConfigError(
      `cannot read the runbooks folder ${dir}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      {
        cause: error,
      },
    );
  }
  return files.sort().map((file) => parseRunbook(file, readFileSync(join(dir, file), "utf8")));
}
