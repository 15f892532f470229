/**
 * A scenario is a module: the targets it compares, the request they all receive, and a checker
 * that decides whether a response is right. The runner (run.ts) starts the fixture and the
 * targets, drives the load generator and reports; it knows nothing scenario-specific.
 */

/** What a scenario's fixture (e.g. the four benchmark subgraphs) hands to target launchers. */
export interface FixtureContext {
  /** Composed supergraph SDL file every gateway target loads. */
  supergraphFile: string;
  /** Subgraph name -> URL, the same URLs the supergraph's join__graph directives carry. */
  subgraphUrls: Record<string, string>;
}

export interface LaunchContext {
  port: number;
  fixture: FixtureContext | null;
  /** Real Redis for targets that use it (ours), with a key prefix unique to this run. */
  redis: { url: string | undefined; prefix: string };
}

/** A target process: `node <script, compiled> <args>`, pinned to the gateway CPU. */
export interface Launch {
  script: string;
  args: string[];
  env?: Record<string, string | undefined>;
  /** Node flags before the script (V8 flags NODE_OPTIONS does not accept, e.g. --heap-growing-percent). */
  nodeFlags?: string[];
}

export interface Target {
  /** Stable id (JSON key, `--targets` filter). One id means one process, shared across scenarios. */
  id: string;
  /** Row label in the report tables. */
  label: string;
  kind: 'gateway' | 'ceiling';
  /**
   * Identical in-flight requests deduplicated? 'on' / 'off' for gateways that can; null for
   * targets that have no such feature (their subgraph requests per query say so in the report).
   */
  dedup: 'on' | 'off' | null;
  /** Targets whose query planner sends the same subgraph requests share a family (subgraph check). */
  planFamily?: string;
  launch(context: LaunchContext): Launch;
}

export interface HttpRequestSpec {
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
}

export type CheckOutcome = 'exact' | 'equivalent' | 'mismatch';
/** Runs inside the load generator on every response body: keep it cheap. */
export type ResponseChecker = (body: string) => CheckOutcome;

export interface Scenario {
  id: string;
  title: string;
  /** The fixture the targets need (started once per run, shared by scenarios). */
  fixture: 'federation' | null;
  targets: Target[];
  /** The target every other is divided by in the "x" column. */
  baseline: string;
  request: HttpRequestSpec;
  /** Builds the checker (once per load-generator process). */
  checker(): ResponseChecker;
}
