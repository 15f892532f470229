import { hasRole, isMember, type Permissions } from '../kit/shield.ts';

/**
 * Who may call what in the agents subgraph (row-level security then decides which rows exist):
 *
 * | what                                                              | who                                  |
 * |-------------------------------------------------------------------|--------------------------------------|
 * | agentKinds, agents, agentRuns, insights, searches, agentUsage     | members                              |
 * | runAgent (the run acts with the caller's rights)                  | members                              |
 * | cancelAgentRun                                                    | members; the run's starter, admins and owners (runs/: it looks at the row) |
 * | create/update/delete agents, dismiss/restore insights             | owners, admins, editors, analysts    |
 * | `insights` on Lead, Deal, ContentPage, Product                    | members                              |
 *
 * Anything not listed is denied; the kit derives the rules of connections, edges, PageInfo and
 * mutation payloads from what they wrap.
 */
export const isAgentManager = hasRole('owner', 'admin', 'editor', 'analyst');

export const permissions: Permissions = {
  Query: {
    agentKinds: isMember,
    agents: isMember,
    agent: isMember,
    agentRuns: isMember,
    agentRun: isMember,
    insights: isMember,
    insight: isMember,
    searchInsights: isMember,
    similar: isMember,
    agentUsage: isMember,
  },
  Mutation: {
    createAgent: isAgentManager,
    updateAgent: isAgentManager,
    deleteAgent: isAgentManager,
    runAgent: isMember,
    cancelAgentRun: isMember,
    dismissInsight: isAgentManager,
    restoreInsight: isAgentManager,
  },
  AgentKindInfo: isMember,
  Agent: isMember,
  AgentRun: isMember,
  TokenUsage: isMember,
  AgentRunError: isMember,
  AgentRunEvent: isMember,
  Insight: isMember,
  InsightSearchHit: isMember,
  SimilarHit: isMember,
  AgentUsage: isMember,
  Lead: isMember,
  Deal: isMember,
  ContentPage: isMember,
  Product: isMember,
  Account: isMember,
};
