import { untraced } from './telemetry/tracing.ts';
import { Kind, type DocumentNode, type FieldDefinitionNode, type TypeNode } from 'graphql';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import type { SubgraphDeps } from './deps.ts';
import type { Logger } from './logger.ts';
import type { SubgraphServer } from './server.ts';

/*
 * What a process builds lazily on its first request, built before it says it is ready: a fresh
 * subgraph answered its first request in 0.4-0.6 s and a fresh gateway in 1.4-1.7 s where later
 * ones took 0.1-0.3 s (measured from build/, on a loaded 2-core machine): WebCrypto and jose, the
 * JWKS fetch (node's fetch loads undici on first use), the first pooled PostgreSQL connection and
 * tenant transaction, Fastify's and Apollo's request pipeline, graphql-shield, the query planner.
 * The entry points call these after building the servers and before they listen, so a subgraph's
 * `/health` (and with it the gateway's `/ready`) answers only once they ran.
 *
 * Best effort and bounded: nothing here can stop a start (a failure is logged at debug and the
 * rest goes on), and each step has a time budget.
 */

/** Id of the warm-up's requests in the logs. */
export const WARM_UP_REQUEST_ID = 'warm-up';
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const STEP_BUDGET_MS = 5_000;

/** `promise`, or undefined after `ms` (the promise keeps running; its failure is ignored). */
async function within<T>(ms: number, promise: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs each named step within its budget; returns how long each took (ms). */
async function steps(log: Logger, list: [string, () => Promise<unknown>][]): Promise<Record<string, number>> {
  const took: Record<string, number> = {};
  for (const [name, run] of list) {
    const started = performance.now();
    await within(
      STEP_BUDGET_MS,
      run().catch((error: Error) => log.debug({ step: name, err: error.message }, 'warm-up step failed')),
    );
    took[name] = Math.round(performance.now() - started);
  }
  return took;
}

/**
 * A token signed by a throwaway key, with a `kid` no JWKS has: signing and verifying it locally
 * loads jose and WebCrypto's Ed25519; a verifier with a remote JWKS fetches the key set for it (its
 * cache is then fresh for the real tokens) and answers anonymous.
 */
export async function warmUpTokens(verify?: (authorization: string) => Promise<unknown>): Promise<void> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const token = await new SignJWT({ tid: NIL_UUID, roles: [] })
    .setProtectedHeader({ alg: 'EdDSA', kid: WARM_UP_REQUEST_ID })
    .setSubject(NIL_UUID)
    .setJti(WARM_UP_REQUEST_ID)
    .setIssuedAt()
    .setExpirationTime('1m')
    .sign(privateKey);
  await jwtVerify(token, createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: WARM_UP_REQUEST_ID, alg: 'EdDSA' }] }));
  await verify?.(`Bearer ${token}`);
}

const requiredArgs = (field: FieldDefinitionNode) => (field.arguments ?? []).some((arg) => arg.type.kind === Kind.NON_NULL_TYPE && !arg.defaultValue);
const namedType = (type: TypeNode): string => (type.kind === Kind.NAMED_TYPE ? type.name.value : namedType(type.type));
const SCALARS = new Set(['ID', 'String', 'Int', 'Float', 'Boolean']);

/**
 * An anonymous query over a subgraph's own root fields that take no required argument
 * (`__typename` of each object): it runs the whole request pipeline, the shield rules (mostly
 * answering UNAUTHENTICATED) and the public resolvers.
 */
export function representativeQuery(typeDefs: DocumentNode): string {
  const scalars = new Set(SCALARS);
  for (const definition of typeDefs.definitions) {
    if (definition.kind === Kind.SCALAR_TYPE_DEFINITION || definition.kind === Kind.ENUM_TYPE_DEFINITION) scalars.add(definition.name.value);
  }
  const fields = typeDefs.definitions.flatMap((definition) =>
    (definition.kind === Kind.OBJECT_TYPE_DEFINITION || definition.kind === Kind.OBJECT_TYPE_EXTENSION) && definition.name.value === 'Query'
      ? (definition.fields ?? []).filter((field) => !requiredArgs(field))
      : [],
  );
  const selections = fields.map((field) => (scalars.has(namedType(field.type)) ? field.name.value : `${field.name.value} { __typename }`));
  return `query WarmUp { __typename ${selections.join(' ')} }`;
}

/**
 * A subgraph before it listens: its database (a pooled connection and the tenant transaction),
 * token verification (and its JWKS, when the auth subgraph answers), and a representative query
 * through its HTTP pipeline (Fastify inject: no socket). Logs what each step took.
 */
export function warmUpSubgraph(
  server: Pick<SubgraphServer, 'name' | 'app'>,
  definition: { typeDefs: DocumentNode },
  deps: Pick<SubgraphDeps, 'db' | 'verifyToken' | 'log'>,
): Promise<Record<string, number>> {
  return untraced(() => warmUp(server, definition, deps));
}

async function warmUp(
  server: Pick<SubgraphServer, 'name' | 'app'>,
  definition: { typeDefs: DocumentNode },
  deps: Pick<SubgraphDeps, 'db' | 'verifyToken' | 'log'>,
): Promise<Record<string, number>> {
  const started = performance.now();
  const took = await steps(deps.log, [
    ['database', () => deps.db.withTenant({ tenantId: NIL_UUID, accountId: null }, (tx) => tx.query('SELECT 1'))],
    ['tokens', () => warmUpTokens(deps.verifyToken)],
    [
      'graphql',
      () =>
        server.app.inject({
          method: 'POST',
          url: '/graphql',
          headers: { 'content-type': 'application/json', 'x-request-id': WARM_UP_REQUEST_ID, 'apollo-require-preflight': 'true' },
          payload: JSON.stringify({ query: representativeQuery(definition.typeDefs) }),
        }),
    ],
  ]);
  deps.log.info({ subgraph: server.name, ms: Math.round(performance.now() - started), steps: took }, 'warmed up');
  return took;
}
