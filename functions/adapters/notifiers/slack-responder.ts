import { LogLevel, WebClient } from "@slack/web-api";

/** Says something to one person in a channel, that only they see (Slack's ephemeral messages). */
export interface SlackResponder {
  ephemeral(channel: string, user: string, text: string): Promise<void>;
}

/**
 * chat.postEphemeral through the Web API (SLACK_API_URL overridable), bounded so that the
 * interaction still answers within Slack's 3 seconds: one quick try, no long retries.
 * Without a token it does nothing: the click itself has been handled either way.
 */
export function slackResponder(options: {
  token?: string | undefined;
  slackApiUrl?: string | undefined;
}): SlackResponder {
  const token = options.token?.trim();
  if (!token) return { ephemeral: async () => undefined };
  const client = new WebClient(token, {
    ...(options.slackApiUrl ? { slackApiUrl: options.slackApiUrl } : {}),
    retryConfig: { retries: 1, minTimeout: 200, maxTimeout: 400 },
    rejectRateLimitedCalls: true,
    timeout: 1_000,
    logLevel: LogLevel.ERROR,
  });
  return {
    ephemeral: async (channel, user, text) => {
      await client.chat.postEphemeral({ channel, user, text }).catch(() => undefined);
    },
  };
}
