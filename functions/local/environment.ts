import { randomBytes } from "node:crypto";

export interface LocalSettings {
  port: number;
  host: string;
  configPath: string;
  dataDir: string;
  webhookToken: string;
  apiToken: string;
  grafanaHmacSecret: string | undefined;
  /** Which tokens were generated here rather than given, so the banner can say so. */
  generated: Array<"webhook" | "api">;
}

const token = () => randomBytes(24).toString("base64url");

/** Reads the local server's settings (DESIGN.md, Environment) from `env`. */
export function localSettings(env: NodeJS.ProcessEnv): LocalSettings {
  const generated: LocalSettings["generated"] = [];
  if (!env.TOCSIN_WEBHOOK_TOKEN) generated.push("webhook");
  if (!env.TOCSIN_API_TOKEN) generated.push("api");
  const webhookToken = env.TOCSIN_WEBHOOK_TOKEN || token();
  const apiToken = env.TOCSIN_API_TOKEN || token();
  const port = Number(env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number, not ${env.PORT}`);
  return {
    port,
    host: env.HOST || "127.0.0.1",
    configPath: env.TOCSIN_CONFIG || "tocsin.yaml",
    dataDir: env.TOCSIN_DATA_DIR || ".data",
    webhookToken,
    apiToken,
    grafanaHmacSecret: env.TOCSIN_GRAFANA_HMAC_SECRET || undefined,
    generated,
  };
}
