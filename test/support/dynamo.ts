import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { FinalizeHandlerArguments, InitializeHandler, MetadataBearer } from "@smithy/types";
import { createTableInput } from "../../functions/adapters/dynamodb/table-schema.js";
import {
  type EmbeddedDynamo,
  startEmbeddedDynamo,
  untilActive,
} from "../../functions/local/embedded-dynamodb.js";
import { faultPlan, type StoreFaults, type StoreRequest } from "./store-faults.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

let tables = 0;

/** An in-memory dynalite for one test file. */
export async function startTestDynamo(): Promise<EmbeddedDynamo> {
  return startEmbeddedDynamo(":memory:", "bootstrap");
}

/** A fresh table, so tests never see each other's items. */
export async function freshTable(client: DynamoDBClient): Promise<string> {
  const name = `incidents-${process.pid}-${++tables}`;
  await client.send(new CreateTableCommand(createTableInput(name)));
  await untilActive(client, name);
  return name;
}

/** A client of its own, so a test can add middleware without touching others. */
export function clientFor(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: "local",
    credentials: { accessKeyId: "t", secretAccessKey: "t" },
  });
}

export interface Faults {
  /**
   * Fail requests of `command` (e.g. "PutItemCommand") as a network fault would: let
   * `skip` of them through, then fail the next `times`.
   */
  failNext(command: string, options?: { skip?: number; times?: number }): void;
  /** Requests sent, by command name. */
  sent: string[];
}

/**
 * Injects faults below the store: the request never reaches DynamoDB and the SDK's own
 * retries are bypassed (the middleware runs first), as when retries are exhausted.
 */
export function injectFaults(client: DynamoDBClient): Faults {
  const plans = new Map<string, { skip: number; times: number }>();
  const faults: Faults = {
    failNext(command, { skip = 0, times = 1 } = {}) {
      plans.set(command, { skip, times });
    },
    sent: [],
  };
  client.middlewareStack.add(
    (next: InitializeHandler<object, MetadataBearer>, context) => async (args) => {
      const command = String(context.commandName);
      const plan = plans.get(command);
      if (plan && plan.skip > 0) plan.skip--;
      else if (plan && plan.times > 0) {
        plan.times--;
        throw Object.assign(new Error(`injected fault in ${command}`), { name: "NetworkingError" });
      }
      faults.sent.push(command);
      return next(args as FinalizeHandlerArguments<object>);
    },
    { step: "initialize", name: "faultInjection" },
  );
  return faults;
}

/** A request as the store's faults name it: by command and the key's prefix. */
function storeRequest(command: string, input: unknown): StoreRequest | undefined {
  const { Key } = (input ?? {}) as { Key?: Record<string, unknown> };
  const pk = Key?.pk;
  const key = typeof pk === "string" ? pk : (pk as { S?: string } | undefined)?.S;
  switch (command) {
    case "PutItemCommand":
      return "create";
    case "UpdateItemCommand":
      return key?.startsWith("FP#") ? "episode" : key?.startsWith("INC#") ? "update" : undefined;
    case "GetItemCommand":
    case "BatchGetItemCommand":
      return "read";
    case "QueryCommand":
      return "query";
    default:
      return undefined;
  }
}

/**
 * Injects storage faults by domain name (`StoreFaults`, as the memory store takes them):
 * an UpdateItem on `FP#` is an episode write, a PutItem a create, an UpdateItem on `INC#` an
 * update. Like `injectFaults`, below the store and the SDK's retries.
 */
export function storeFaults(client: DynamoDBClient): StoreFaults {
  const { faults, beforeRequest } = faultPlan();
  client.middlewareStack.add(
    (next: InitializeHandler<object, MetadataBearer>, context) => async (args) => {
      const kind = storeRequest(String(context.commandName), args.input);
      if (kind) beforeRequest(kind);
      return next(args as FinalizeHandlerArguments<object>);
    },
    { step: "initialize", name: "storeFaultInjection" },
  );
  return faults;
}
