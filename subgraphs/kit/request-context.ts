import type { FastifyRequest } from 'fastify';
import { clientIp } from './client-ip.ts';
import type { Context } from './context.ts';
import type { TxRunner } from './db/database.ts';
import type { SubgraphDeps } from './deps.ts';
import type { Logger } from './logger.ts';
import type { Principal } from './principal.ts';

const REQUEST = Symbol('request');

/** What a request's context is made of (all but its loaders, which are made from it). */
export interface RequestContextFields<TSettings> {
  request: FastifyRequest;
  principal: Principal;
  requestId: string;
  log: Logger;
  deps: SubgraphDeps<TSettings>;
  tx: TxRunner;
}

/**
 * A request's context, the object every resolver gets. A class, so that every request's context
 * has one shape: Apollo Server copies the context for each operation onto an object of the same
 * prototype (`Object.assign(Object.create(prototype), context)`), and the resolvers' property
 * reads stay monomorphic. (A prototype made per request gave every request's context a map of
 * its own: 2.4% of crm's CPU on REST leads went to building them.)
 *
 * `clientIp` is a getter on the prototype: only the few resolvers that throttle per IP (login,
 * lead forms) parse X-Forwarded-For; an own getter would run on every copy. The request is kept
 * under a symbol, an own enumerable field, so the copy keeps it too.
 */
export class RequestContext<TLoaders = unknown, TSettings = unknown> implements Context<TLoaders, TSettings> {
  readonly [REQUEST]: FastifyRequest;
  principal: Principal;
  requestId: string;
  authorization: string | undefined;
  log: Logger;
  deps: SubgraphDeps<TSettings>;
  tx: TxRunner;
  touchedTenants = new Set<string>();
  cacheGeneration: string | null | undefined = undefined;
  /** Made from the rest of the context (SubgraphDefinition.createLoaders), right after it. */
  loaders: TLoaders = undefined as TLoaders;

  constructor(fields: RequestContextFields<TSettings>) {
    this[REQUEST] = fields.request;
    this.principal = fields.principal;
    this.requestId = fields.requestId;
    this.authorization = fields.request.headers.authorization;
    this.log = fields.log;
    this.deps = fields.deps;
    this.tx = fields.tx;
  }

  get clientIp(): string {
    return clientIp(this[REQUEST]);
  }
}
