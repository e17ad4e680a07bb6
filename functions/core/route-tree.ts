import { type Labels, labelSet, labelValue, type Severity } from "./alert.js";
import type { Config, RouteNode } from "./config.js";
import { matchesAll } from "./matchers.js";
import { normalizeSeverity } from "./severity.js";

/** What the route tree decided for one alert. */
export interface Routing {
  team: string;
  severity: Severity;
  /** Channel ids (keys of `channels` in the config), in order, without repeats. */
  channels: string[];
  /** Escalation policy id, or null for none. */
  escalation: string | null;
  /** Seconds to wait before the first page (the high-severity grace period). */
  delay: number;
  /** Indexes of the matched routes from the root, e.g. ["0", "0.2"], for the timeline. */
  matchedRoutes: string[];
}

interface Settings {
  team?: string | undefined;
  severity?: Severity | undefined;
  channels?: string[] | undefined;
  escalation?: string | null | undefined;
  delay?: number | undefined;
}

function inherit(parent: Settings, node: RouteNode): Settings {
  return {
    team: node.team ?? parent.team,
    severity: node.severity ?? parent.severity,
    channels: node.channels ?? parent.channels,
    escalation: node.escalation !== undefined ? node.escalation : parent.escalation,
    delay: node.delay ?? parent.delay,
  };
}

interface Match {
  settings: Settings;
  path: string;
}

/**
 * Alertmanager's route walk: depth first, a node matches when all its matchers do, the
 * deepest matching child wins, siblings after a match are tried only when it has
 * `continue: true`, and a node none of whose children match is itself the match.
 * https://prometheus.io/docs/alerting/latest/configuration/#route
 */
function walk(node: RouteNode, labels: Labels, inherited: Settings, path: string): Match[] {
  if (!matchesAll(node.matchers, labels)) return [];
  const settings = inherit(inherited, node);
  const found: Match[] = [];
  for (const [i, child] of node.routes.entries()) {
    const childMatches = walk(child, labels, settings, path ? `${path}.${i}` : String(i));
    found.push(...childMatches);
    if (childMatches.length > 0 && !child.continue) break;
  }
  return found.length > 0 ? found : [{ settings, path: path || "root" }];
}

/**
 * Routes an alert's labels. The `severity` label is normalised (synonyms, default) before
 * matching, so routes match on `critical|high|warning|info`. Team, severity, policy and
 * delay come from the first matching route; channels are the union over all matches
 * (`continue: true`); what no route sets comes from the severity's defaults in the config.
 */
export function routeAlert(config: Config, labels: Labels): Routing {
  const labelSeverity = normalizeSeverity(labelValue(labels, "severity"), config.defaults.severity);
  const routingLabels = labelSet([...Object.entries(labels), ["severity", labelSeverity]]);
  const root: RouteNode = config.route ?? { matchers: [], continue: false, routes: [] };
  const found = walk({ ...root, matchers: [] }, routingLabels, {}, "");
  const first = found[0]!.settings;
  const severity = first.severity ?? labelSeverity;
  const defaults = config.severities[severity];
  const channels = new Set<string>();
  for (const match of found) {
    for (const id of match.settings.channels ?? defaults.channels) channels.add(id);
  }
  return {
    team: first.team ?? config.defaults.team,
    severity,
    channels: [...channels],
    escalation: first.escalation !== undefined ? first.escalation : defaults.escalation,
    delay: first.delay ?? defaults.delay,
    matchedRoutes: found.map((m) => m.path),
  };
}
