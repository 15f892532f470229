import type { Principal } from '../subgraphs/kit/principal.ts';

/** Per-request gateway context: what the subgraph client forwards and the access log records. */
export interface GatewayContext {
  requestId: string;
  /** The socket address the gateway saw (never a client-sent x-forwarded-for). */
  clientIp: string;
  /** The caller's raw Authorization header, forwarded to our subgraphs (never to Saleor). */
  authorization: string | undefined;
  /** Verified at the gateway for rate limiting and logs; subgraphs verify the token again. */
  principal: Principal;
  /**
   * Filled in by the request plugin for the access log and metrics. A nested object on purpose:
   * Apollo Server hands plugins a shallow clone of the context, so only shared objects carry back.
   */
  trace: { operationName: string | null; operationType?: string | null };
  /**
   * The client hung up. Its operation's subgraph fetches that have not started are skipped
   * (a plan's later steps, an entity fetch after a list): nobody will read their answer, and
   * under overload a client that gave up must not cost the subgraphs what others wait for.
   */
  clientGone(): boolean;
}
