import type { PlanNode, QueryPlan } from '@apollo/query-planner';

/**
 * A query plan rewritten into stages, so fetches to the same subgraph start together and
 * subgraph-client.ts can send them as one request (GATEWAY_FETCH_MERGE).
 *
 * Apollo's planner nests Sequences in Parallels: each branch of the operation walks its own chain
 * of fetches, and two branches that each need, say, the reviews subgraph at the same depth fetch
 * it at different moments, whenever their own previous fetch happens to return. The public
 * federation benchmark's TestQuery makes 16 fetches that way. Here every fetch (a Fetch, the
 * Flatten around it, or a Condition as a whole) is placed at the earliest stage its dependencies
 * allow (the length of the longest chain of Sequence steps before it), and a fetch nothing waits
 * for may move later, up to the last stage, to join a fetch to the same subgraph. The stages run
 * one after another, each a Parallel: every fetch still runs after everything it depended on in
 * the original plan (the Sequences before it), so the answer is the same. TestQuery: 4 stages,
 * 8 requests.
 *
 * The price: a fetch also waits for the unrelated fetches of the stage before it. A plan whose
 * stages would merge nothing is left as it was.
 */

interface Placed {
  node: PlanNode;
  stage: number;
  /** Nothing in the plan runs after it: it may move to a later stage. */
  terminal: boolean;
}

/** The subgraph a leaf fetches from, or null for a leaf that is not a single fetch (a Condition). */
function subgraphOf(node: PlanNode): string | null {
  if (node.kind === 'Fetch') return node.serviceName;
  if (node.kind === 'Flatten') return subgraphOf(node.node);
  return null;
}

/** Places `node`'s leaves from `start`; returns the stage after its last one. */
function place(node: PlanNode, start: number, terminal: boolean, out: Placed[]): number {
  if (node.kind === 'Sequence') {
    let at = start;
    node.nodes.forEach((child, i) => {
      at = place(child, at, terminal && i === node.nodes.length - 1, out);
    });
    return at;
  }
  if (node.kind === 'Parallel') {
    let end = start;
    for (const child of node.nodes) end = Math.max(end, place(child, start, terminal, out));
    return end;
  }
  out.push({ node, stage: start, terminal });
  return start + 1;
}

/** Requests the leaves of `stages` need once fetches to one subgraph in a stage share a request. */
function requestCount(stages: PlanNode[][]): number {
  let count = 0;
  for (const stage of stages) {
    const subgraphs = new Set<string>();
    for (const node of stage) {
      const subgraph = subgraphOf(node);
      if (subgraph === null) count++;
      else subgraphs.add(subgraph);
    }
    count += subgraphs.size;
  }
  return count;
}

/** The plan's root node in stages, or the node itself when staging would merge no fetch. */
export function stagePlanNode(root: PlanNode): PlanNode {
  const placed: Placed[] = [];
  const length = place(root, 0, true, placed);
  if (placed.length < 2) return root;
  // A fetch nothing waits for joins the earliest later stage that already fetches from its subgraph.
  const fixed = placed.filter((leaf) => !leaf.terminal);
  for (const leaf of placed) {
    if (!leaf.terminal) continue;
    const subgraph = subgraphOf(leaf.node);
    if (subgraph === null) continue;
    const inStage = (stage: number) => fixed.some((other) => other.stage === stage && subgraphOf(other.node) === subgraph);
    if (!inStage(leaf.stage)) {
      for (let stage = leaf.stage + 1; stage < length; stage++) {
        if (inStage(stage)) {
          leaf.stage = stage;
          break;
        }
      }
    }
    fixed.push(leaf);
  }
  const stages: PlanNode[][] = Array.from({ length }, () => []);
  for (const leaf of placed) stages[leaf.stage]!.push(leaf.node);
  const used = stages.filter((stage) => stage.length > 0);
  if (requestCount(used) >= placed.length) return root;
  const steps = used.map((stage): PlanNode => (stage.length === 1 ? stage[0]! : { kind: 'Parallel', nodes: stage }));
  return steps.length === 1 ? steps[0]! : { kind: 'Sequence', nodes: steps };
}

const staged = new WeakSet<QueryPlan>();

/**
 * Stages a plan in place, once: Apollo Gateway caches plan objects and hands the same one to
 * every request of the operation (through `experimental_didResolveQueryPlan`, before executing it).
 */
export function stageQueryPlan(plan: QueryPlan): void {
  if (staged.has(plan)) return;
  staged.add(plan);
  // A subscription's plan (never served here) stays as it is.
  if (plan.node && plan.node.kind !== 'Subscription') (plan as { node?: PlanNode }).node = stagePlanNode(plan.node);
}
