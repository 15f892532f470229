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
}
