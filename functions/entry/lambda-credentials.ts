import { fromEnv } from "@aws-sdk/credential-provider-env";
import { fromHttp } from "@aws-sdk/credential-provider-http";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";

/**
 * Stands in for @aws-sdk/credential-provider-node in the Lambda bundles (lib/bundle-options.ts
 * aliases it here): the SDK clients' default credential chain. Lambda hands a function its
 * role's credentials in environment variables; a container credentials endpoint is the
 * fallback. The SDK's full chain (profiles, SSO, web identity, processes, IMDS) adds 130 KB
 * (a quarter of a webhook bundle) for sources that do not exist on Lambda. Same signature
 * as the package's `defaultProvider`; the local server and the tests use the real chain.
 */
export function defaultProvider(
  init: Parameters<typeof fromEnv>[0] & Parameters<typeof fromHttp>[0] = {},
): AwsCredentialIdentityProvider {
  const fromEnvironment = fromEnv(init);
  return async (): Promise<AwsCredentialIdentity> => {
    try {
      return await fromEnvironment();
    } catch {
      // Created only now: fromHttp throws at once when no endpoint is configured.
      return fromHttp(init)();
    }
  };
}
