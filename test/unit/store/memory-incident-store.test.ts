import { MemoryIncidentStore } from "../../../functions/adapters/memory/incident-store.js";
import { incidentStoreContract } from "../../support/contracts/incident-store.contract.js";
import { faultPlan } from "../../support/store-faults.js";

incidentStoreContract("memory", async () => {
  const { faults, beforeRequest } = faultPlan();
  return { store: new MemoryIncidentStore({ beforeRequest }), faults };
});
