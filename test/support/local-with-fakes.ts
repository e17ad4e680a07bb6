import { Logger } from "@aws-lambda-powertools/logger";
import { loadServiceFiles } from "../../functions/adapters/config-file.js";
import {
  type LocalServer,
  type LocalServerOptions,
  startLocalServer,
} from "../../functions/local/server.js";
import { FakePagerDuty } from "./fake-pagerduty.js";
import { FakeSlack } from "./fake-slack.js";

/** A routing key of the shape PagerDuty accepts (the fake checks it). */
export const ROUTING_KEY = "0123456789abcdef0123456789abcdef";
const BOT_TOKEN = "xoxb-local-fakes";

export interface LocalWithFakes {
  local: LocalServer;
  slack: FakeSlack;
  pagerDuty: FakePagerDuty;
  close(): Promise<void>;
}

/**
 * tocsin's local server with the shipped tocsin.yaml and runbooks, its Slack and PagerDuty
 * pointed at fakes on 127.0.0.1 (PagerDuty over HTTPS with a certificate made for the run).
 */
export async function startLocalWithFakes(
  options: Pick<LocalServerOptions, "webhookToken" | "apiToken"> &
    Partial<
      Pick<
        LocalServerOptions,
        | "timeScale"
        | "slack"
        | "dataDir"
        | "grafanaHmacSecret"
        | "grafanaHeaders"
        | "onStateEntered"
      >
    >,
): Promise<LocalWithFakes> {
  const slack = await FakeSlack.start({ token: BOT_TOKEN });
  const pagerDuty = await FakePagerDuty.start();
  const { config, runbooks } = loadServiceFiles("tocsin.yaml");
  const local = await startLocalServer({
    config,
    runbooks,
    host: "127.0.0.1",
    port: 0,
    dataDir: options.dataDir ?? ":memory:",
    webhookToken: options.webhookToken,
    apiToken: options.apiToken,
    ...(options.timeScale ? { timeScale: options.timeScale } : {}),
    ...(options.slack ? { slack: options.slack } : {}),
    grafanaHmacSecret: options.grafanaHmacSecret,
    grafanaHeaders: options.grafanaHeaders,
    ...(options.onStateEntered ? { onStateEntered: options.onStateEntered } : {}),
    notifiers: {
      slack: { token: BOT_TOKEN, apiUrl: slack.apiUrl },
      pagerDuty: { routingKey: ROUTING_KEY, server: pagerDuty.server, ca: pagerDuty.ca },
    },
    logger: new Logger({ serviceName: "tocsin", logLevel: "ERROR" }),
  });
  return {
    local,
    slack,
    pagerDuty,
    close: async () => {
      await local.close();
      await slack.close();
      await pagerDuty.close();
    },
  };
}
