import { MemoryReplayGuard } from "../../../functions/adapters/memory/replay-guard.js";
import { replayGuardContract } from "../../support/contracts/replay-guard.contract.js";
import { faultPlan } from "../../support/store-faults.js";

replayGuardContract("memory", async () => {
  const { faults, beforeRequest } = faultPlan();
  // One guard stands for every instance: in memory they would share one Map anyway.
  const guard = new MemoryReplayGuard({ beforeRequest });
  return { guards: (count) => Array.from({ length: count }, () => guard), faults };
});
