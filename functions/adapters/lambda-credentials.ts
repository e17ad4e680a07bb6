import { fromEnv } from "@aws-sdk/credential-provider-env";
import { fromHttp } from "@aws-sdk/credential-provider-http";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";

/** Credentials are fetched again this long before they expire. */
const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;

/**
 * Stands in for @aws-sdk/credential-provider-node in the Lambda bundles (lib/bundle-options.ts
 * aliases it here): the SDK clients' default credential chain. Lambda hands a function its
 * role's credentials in environment variables; a container credentials endpoint is the
 * fallback. The SDK's full chain (profiles, SSO, web identity, processes, IMDS) adds 130 KB
 * (a quarter of a webhook bundle) for sources that do not exist on Lambda. Same signature
 * as the package's `defaultProvider`, and like it, the answer is kept until shortly before
 * it expires. The local server and the tests use the real chain.
 */
export function defaultProvider(
  init: Parameters<typeof fromEnv>[0] & Parameters<typeof fromHttp>[0] = {},
): AwsCredentialIdentityProvider {
  const fromEnvironment = fromEnv(init);
  const load = async (): Promise<AwsCredentialIdentity> => {
    try {
      return await fromEnvironment();
    } catch (environmentError) {
      try {
        // Created only now: fromHttp throws at once when no endpoint is configured.
        return await fromHttp(init)();
      } catch (endpointError) {
        throw new Error(
          `no AWS credentials: ${(environmentError as Error).message}; ${(endpointError as Error).message}`,
          { cause: endpointError },
        );
      }
    }
  };
  let current: Promise<AwsCredentialIdentity> | undefined;
  return async () => {
    const credentials = current && (await current.catch(() => undefined));
    const expires = credentials?.expiration?.getTime() ?? Number.POSITIVE_INFINITY;
    if (credentials && expires - Date.now() > REFRESH_BEFORE_EXPIRY_MS) return credentials;
    current = load();
    return current;
  };
}
