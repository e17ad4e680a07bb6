declare module "dynalite" {
  import type { Server } from "node:http";

  interface DynaliteOptions {
    path?: string;
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
  }

  /** dynalite 4: an HTTP server speaking DynamoDB's API over LevelDB. */
  export default function dynalite(options?: DynaliteOptions): Server;
}
