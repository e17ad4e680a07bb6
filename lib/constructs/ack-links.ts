import type { Secret } from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import { grantSecretRead, tokenSecret } from "../token-secret.js";
import type { TocsinFunction } from "./tocsin-function.js";

/** Why the link key is not rotated automatically. */
const LINK_KEY_ROTATION =
  "Not rotated automatically: the key signs the acknowledgement links in pages already " +
  "sent, so rotating it voids every outstanding link (at most links.ttl old, 12 h by " +
  'default). Rotate by hand with put-secret-value "<new>,<old>" (both verify, the first ' +
  "signs), then drop the old one after the ttl.";

export interface AckLinksProps {
  /** The function behind GET/POST /a/{token}: it verifies links. */
  readonly links: TocsinFunction;
  /** The escalation function: it signs the links its pages carry. */
  readonly escalation: TocsinFunction;
  /** Where people open links: the HTTP API's stage URL. */
  readonly publicUrl: string;
}

/**
 * The signed acknowledgement links: the key in Secrets Manager (generated at deploy time,
 * never in the template), readable by the function that verifies links and the one that
 * signs them, and by no other; the escalation function learns the public URL links open at.
 */
export class AckLinks extends Construct {
  readonly key: Secret;

  constructor(scope: Construct, id: string, props: AckLinksProps) {
    super(scope, id);
    this.key = tokenSecret(
      this,
      "AckLinkKey",
      "tocsin: the key acknowledgement links are signed with (a comma list while rotating)",
      LINK_KEY_ROTATION,
    );
    for (const fn of [props.links, props.escalation]) {
      fn.addEnvironment("ACK_LINK_KEY_SECRET_ARN", this.key.secretArn);
      grantSecretRead(fn, this.key);
    }
    props.escalation.addEnvironment("TOCSIN_PUBLIC_URL", props.publicUrl);
  }
}
