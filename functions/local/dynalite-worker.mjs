/**
 * dynalite on a thread of its own (started by embedded-dynamodb.ts): the DynamoDB side of a
 * storm (parsing requests, LevelDB) runs beside the service's own work instead of taking
 * turns with it on one thread. Plain JavaScript because a worker thread loads its file with
 * Node's own loader, whatever runs the service (tsx, vitest).
 *
 * workerData: { options, port, requests } (dynalite's options; 0 for any free port; an
 * Int32Array on shared memory whose first element counts the HTTP requests received). Tells
 * the parent { type: "listening", port }, and answers { type: "close" } by closing the server
 * and its LevelDB, after which the thread ends. A rejection nobody handled is passed to the
 * parent as text, so it surfaces where the service's own would (this thread would end on it).
 */
import { parentPort, workerData } from "node:worker_threads";
import dynalite from "dynalite";

const server = dynalite(workerData.options);
server.on("request", () => {
  Atomics.add(workerData.requests, 0, 1);
});

process.on("unhandledRejection", (reason) => {
  parentPort.postMessage({
    type: "unhandledRejection",
    reason: reason instanceof Error ? (reason.stack ?? reason.message) : String(reason),
  });
});

parentPort.on("message", (message) => {
  if (message.type === "close") {
    server.close(() => {
      parentPort.postMessage({ type: "closed" });
      parentPort.close();
    });
  }
});

server.once("error", (error) => {
  throw error;
});
server.listen(workerData.port, "127.0.0.1", () => {
  parentPort.postMessage({ type: "listening", port: server.address().port });
});
