import { MemoryIncidentStore } from "../../../functions/adapters/memory/incident-store.js";
import { incidentActionsProperty } from "../../support/properties/incident-actions.js";

// The memory store yields between requests as DynamoDB's would, so the races interleave alike.
incidentActionsProperty("memory store", () => new MemoryIncidentStore(), 200);
