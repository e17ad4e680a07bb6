import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { defaultProvider } from "../../../functions/adapters/lambda-credentials.js";

const VARIABLES = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_CREDENTIAL_EXPIRATION",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN",
] as const;
let saved: Record<string, string | undefined>;

beforeEach(() => {
  saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
  for (const name of VARIABLES) delete process.env[name];
});
afterEach(() => {
  for (const name of VARIABLES) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

/** A container credentials endpoint on 127.0.0.1 handing out credentials valid for `validMs`. */
async function credentialsEndpoint(validMs: number) {
  let requests = 0;
  const server: Server = createServer((_request, response) => {
    requests++;
    response.writeHead(200, { "content-type": "application/json" });
    response.end(
      JSON.stringify({
        AccessKeyId: `ASIACONTAINER${requests}`,
        SecretAccessKey: "container-secret",
        Token: "container-token",
        Expiration: new Date(Date.now() + validMs).toISOString(),
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    uri: `http://127.0.0.1:${port}/credentials`,
    requests: () => requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("the Lambda bundles' credential chain", () => {
  it("takes the role's credentials from the environment, as Lambda sets them", async () => {
    process.env.AWS_ACCESS_KEY_ID = "ASIAENVIRONMENT";
    process.env.AWS_SECRET_ACCESS_KEY = "environment-secret";
    process.env.AWS_SESSION_TOKEN = "environment-token";
    const endpoint = await credentialsEndpoint(3_600_000);
    process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = endpoint.uri;
    try {
      await expect(defaultProvider()()).resolves.toMatchObject({
        accessKeyId: "ASIAENVIRONMENT",
        secretAccessKey: "environment-secret",
        sessionToken: "environment-token",
      });
      expect(endpoint.requests()).toBe(0);
    } finally {
      await endpoint.close();
    }
  });

  it("falls back to the container endpoint, and asks it again only near expiry", async () => {
    const lasting = await credentialsEndpoint(3_600_000);
    const brief = await credentialsEndpoint(60_000);
    try {
      process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = lasting.uri;
      const provider = defaultProvider();
      const answers = await Promise.all([provider(), provider(), provider()]);
      expect(answers.map((answer) => answer.accessKeyId)).toEqual([
        "ASIACONTAINER1",
        "ASIACONTAINER1",
        "ASIACONTAINER1",
      ]);
      await provider();
      expect(lasting.requests()).toBe(1);

      // Credentials expiring within five minutes are fetched again at the next call.
      process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = brief.uri;
      const expiring = defaultProvider();
      await expiring();
      await expiring();
      expect(brief.requests()).toBe(2);
    } finally {
      await lasting.close();
      await brief.close();
    }
  });

  it("says what it looked for when there is neither", async () => {
    await expect(defaultProvider()()).rejects.toThrow(
      /no AWS credentials: .*environment.*AWS_CONTAINER_CREDENTIALS_FULL_URI/s,
    );
  });
});
