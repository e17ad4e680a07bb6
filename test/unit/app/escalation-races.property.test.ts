import { MemoryIncidentStore } from "../../../functions/adapters/memory/incident-store.js";
import { escalationRacesProperty } from "../../support/properties/escalation-races.js";

// The memory store yields between requests as DynamoDB's would, so the races interleave alike.
escalationRacesProperty("memory store", () => new MemoryIncidentStore(), 120);
