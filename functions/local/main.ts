/**
 * `npm start`: tocsin on one machine. Reads the environment (DESIGN.md), validates the
 * config, starts embedded DynamoDB and the HTTP server, and prints how to use it.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { loadServiceFiles } from "../adapters/config-file.js";
import { InvalidConfigError } from "../core/errors.js";
import { banner } from "./banner.js";
import { localSettings } from "./environment.js";
import { startLocalServer } from "./server.js";

// The SDK warns that it will need Node 22 from 2027; Lambda runs 22, this is the local tool.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const logger = new Logger({ serviceName: "tocsin" });

// A promise that rejects with nobody awaiting it would end the process, and with it every
// escalation waiting here. Whatever it was, one request or one task failed, not the service:
// log it and keep serving.
process.on("unhandledRejection", (reason: unknown) => {
  logger.error("unhandled rejection; still serving", {
    event: "unhandled_rejection",
    error: reason,
  });
});

async function main() {
  const settings = localSettings(process.env);
  const { config, runbooks } = loadServiceFiles(settings.configPath);
  const local = await startLocalServer({ ...settings, config, runbooks, logger });
  process.stdout.write(
    banner({
      settings,
      url: local.url,
      runbooks: runbooks.length,
      resumedEscalations: local.resumedEscalations.length,
      now: new Date(),
    }),
  );
  const stop = async () => {
    await local.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((error: unknown) => {
  if (error instanceof InvalidConfigError) {
    process.stderr.write(`tocsin: ${error.message}\n`);
  } else {
    process.stderr.write(`tocsin: cannot start: ${(error as Error).stack ?? error}\n`);
  }
  process.exit(1);
});
