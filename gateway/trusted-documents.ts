import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { HeaderMap, type ApolloServerPlugin, type GraphQLRequest } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { ConfigError } from '../subgraphs/kit/config.ts';
import type { Logger } from '../subgraphs/kit/logger.ts';
import { repoPath } from '../subgraphs/kit/paths.ts';
import type { GatewayConfig } from './config.ts';
import type { GatewayContext } from './context.ts';

/**
 * Trusted documents (persisted operations) at the gateway: which GraphQL documents a client may
 * run, by the setting TRUSTED_DOCUMENTS:
 *
 *  - `off`: any document; the manifest is not read. (Automatic Persisted Queries still work.)
 *  - `allow` (default): a known document id resolves to its document from the manifest; any
 *    other document is accepted too, and APQ works as ever.
 *  - `only`: known documents only. A document the manifest does not hold is refused with
 *    PERSISTED_QUERY_NOT_ALLOWED (400) before it is parsed, whether it comes as a query or as an
 *    APQ registration (so it never enters the APQ cache); an unknown id is PERSISTED_QUERY_NOT_FOUND.
 *
 * The manifest (TRUSTED_DOCUMENTS_MANIFEST) is what graphql-codegen's client preset writes with
 * `persistedDocuments`: a JSON object of `"sha256:<hex>"` (or a bare hex hash) -> document; each
 * entry is checked against its hash when it is loaded. A client sends the id as `documentId`
 * (GraphQL over HTTP's persisted documents: `"sha256:<hex>"` or the bare hex; POST body or GET
 * parameter), or as APQ's `extensions.persistedQuery.sha256Hash`.
 *
 * In every mode a hash that does not match the document sent with it (a query plus a
 * `sha256Hash` or `documentId` of something else) is refused: PERSISTED_QUERY_HASH_MISMATCH (400).
 *
 * Trusted by construction, in every mode: operations the gateway runs in-process (the REST
 * shim's /api/brain operations and the warm-up, through `gateway.execute` / `executeOperation`:
 * no HTTP request of their own, so no client wrote them), and the agents subgraph's runs, whose
 * operations are built in its code and arrive with a delegated token (`act.sub: "agents"`, minted
 * only by the auth subgraph for the agents subgraph's shared secret).
 */

export const TRUSTED_DOCUMENTS_MODES = ['off', 'allow', 'only'] as const;
export type TrustedDocumentsMode = (typeof TRUSTED_DOCUMENTS_MODES)[number];

/** The manifest `npm run codegen` writes from clients/operations/*.graphql (codegen.ts). */
export const DEFAULT_MANIFEST = repoPath('clients/__generated__/persisted-documents.json');

/** What a refused request runs instead of its own document: nothing of the client's is parsed. */
const REFUSED_DOCUMENT = '{ __typename }';
const DOCUMENT_ID = /^(?:sha256:)?([0-9a-fA-F]{64})$/;
/** The delegated tokens' actor (subgraphs/auth/delegation.ts). */
const AGENTS_ACTOR = 'agents';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export type Manifest = ReadonlyMap<string, string>;

/**
 * Reads manifests into one map of hex sha256 -> document. A file that is not such a map, or an
 * entry whose document does not hash to its key, is a ConfigError naming the file.
 */
export function loadManifest(paths: readonly string[]): Manifest {
  const documents = new Map<string, string>();
  for (const path of paths) {
    const fail = (problem: string): never => {
      throw new ConfigError(`Invalid configuration: TRUSTED_DOCUMENTS_MANIFEST: ${path}: ${problem}`);
    };
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      fail((error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not readable JSON (${(error as Error).message})`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) fail('expected a JSON object of document hash -> document');
    for (const [key, document] of Object.entries(parsed as Record<string, unknown>)) {
      const hash = DOCUMENT_ID.exec(key)?.[1]?.toLowerCase();
      if (!hash) fail(`"${key.slice(0, 80)}" is not a sha256 document id`);
      if (typeof document !== 'string' || !document) fail(`the document of ${key} is not a string`);
      if (sha256(document as string) !== hash) fail(`the document of ${key} does not hash to it (hashes are sha256 of the document)`);
      documents.set(hash!, document as string);
    }
  }
  return documents;
}

/**
 * The manifest files of the settings: TRUSTED_DOCUMENTS_MANIFEST (comma-separated, relative to
 * the working directory), else the repository's generated one, which may be missing (a build
 * that does not ship it): then `allow` serves without ids, and `only` refuses to start.
 */
export function manifestOf(config: Pick<GatewayConfig, 'TRUSTED_DOCUMENTS' | 'TRUSTED_DOCUMENTS_MANIFEST'>, log?: Logger): Manifest {
  if (config.TRUSTED_DOCUMENTS === 'off') return new Map();
  const configured = config.TRUSTED_DOCUMENTS_MANIFEST ?? [];
  if (configured.length) return loadManifest(configured.map((path) => resolve(path)));
  if (existsSync(DEFAULT_MANIFEST)) return loadManifest([DEFAULT_MANIFEST]);
  if (config.TRUSTED_DOCUMENTS === 'only') {
    throw new ConfigError(`Invalid configuration: TRUSTED_DOCUMENTS_MANIFEST: required with TRUSTED_DOCUMENTS=only (${DEFAULT_MANIFEST} is missing: run \`npm run codegen\`)`);
  }
  log?.warn({ manifest: DEFAULT_MANIFEST }, 'trusted documents: no manifest; document ids will not resolve');
  return new Map();
}

function refusal(message: string, code: string, status: number, headers?: [string, string][]): GraphQLError {
  // (Apollo Server wants a HeaderMap; graphql-yoga's type augmentation of `http` says otherwise.)
  const extensions: Record<string, unknown> = { code, http: { status, ...(headers ? { headers: new HeaderMap(headers) } : {}) } };
  return new GraphQLError(message, { extensions });
}

/** Read from the request body (POST) or the URL (GET): GraphQLRequest itself has no place for it. */
function documentIdOf(http: NonNullable<GraphQLRequest['http']>): unknown {
  if (http.method === 'GET') return new URLSearchParams(http.search).get('documentId') ?? undefined;
  const body = http.body as Record<string, unknown> | null | undefined;
  return body && typeof body === 'object' && !Array.isArray(body) ? body.documentId : undefined;
}

const agentTokens = new WeakMap<object, boolean>();
/**
 * The caller's verified token is a delegated one of the agents subgraph (`act.sub`). The
 * principal is only non-anonymous when this exact Authorization header verified, so its claims
 * can be read without checking the signature again; the answer is kept per principal (the
 * verifier returns the same frozen object for the same token).
 */
function isAgentRun(context: GatewayContext): boolean {
  const { principal, authorization } = context;
  if (!principal.accountId || !authorization?.startsWith('Bearer ')) return false;
  let known = agentTokens.get(principal);
  if (known === undefined) {
    try {
      const payload = JSON.parse(Buffer.from(authorization.slice(7).trim().split('.')[1] ?? '', 'base64url').toString('utf8'));
      known = payload?.act?.sub === AGENTS_ACTOR;
    } catch {
      known = false;
    }
    agentTokens.set(principal, known);
  }
  return known;
}

export interface TrustedDocumentsOptions {
  mode: TrustedDocumentsMode;
  manifest: Manifest;
}

/**
 * The Apollo Server plugin. `requestDidStart` resolves ids to documents and decides; a refused
 * request has its document replaced by a constant one (so nothing of it is parsed, validated or
 * registered as APQ) and fails in `didResolveOperation` with the refusal. It must come first
 * among the plugins: the others see the resolved document.
 */
export function trustedDocumentsPlugin({ mode, manifest }: TrustedDocumentsOptions): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ request, contextValue }) {
      // In-process operations (REST shim, warm-up) have no HTTP request: built in code, trusted.
      if (!request.http) return;
      const refused = decide(request, contextValue);
      if (!refused) return;
      request.query = REFUSED_DOCUMENT;
      request.operationName = undefined;
      if (request.extensions?.persistedQuery) {
        const { persistedQuery: _apq, ...extensions } = request.extensions;
        request.extensions = extensions;
      }
      return {
        async didResolveOperation() {
          throw refused;
        },
      };
    },
  };

  /** Fills `request.query` from the manifest where it can; the refusal, or null to go on. */
  function decide(request: GraphQLRequest, context: GatewayContext): GraphQLError | null {
    const rawId = documentIdOf(request.http!);
    let documentId: string | undefined;
    if (rawId !== undefined && rawId !== null) {
      documentId = typeof rawId === 'string' ? DOCUMENT_ID.exec(rawId)?.[1]?.toLowerCase() : undefined;
      if (!documentId) return refusal('`documentId` must be "sha256:" followed by the 64 hex digits of the document\'s SHA-256 hash.', 'BAD_REQUEST', 400);
    }
    const apq = request.extensions?.persistedQuery as { sha256Hash?: unknown } | undefined;
    const apqHash = typeof apq?.sha256Hash === 'string' ? apq.sha256Hash.toLowerCase() : undefined;
    if (documentId && apqHash && documentId !== apqHash) {
      return refusal('`documentId` and `extensions.persistedQuery.sha256Hash` name different documents.', 'PERSISTED_QUERY_HASH_MISMATCH', 400);
    }
    const claimed = documentId ?? apqHash;
    const query = request.query;

    if (typeof query === 'string') {
      const hash = claimed || mode === 'only' ? sha256(query) : undefined;
      if (claimed && hash !== claimed) {
        return refusal('The document does not match its hash: the hash is the SHA-256 of the document sent with it.', 'PERSISTED_QUERY_HASH_MISMATCH', 400);
      }
      if (mode === 'only' && !manifest.has(hash!) && !isAgentRun(context)) return notAllowed(Boolean(apq));
      return null;
    }

    if (!claimed) return null; // neither a document nor an id: Apollo Server's own 400
    const known = mode === 'off' ? undefined : manifest.get(claimed);
    if (known !== undefined) {
      request.query = known;
      return null;
    }
    if (documentId) {
      return refusal(
        mode === 'off' ? 'This gateway does not serve documents by id (TRUSTED_DOCUMENTS=off): send the document as `query`.' : `Unknown document id sha256:${documentId}.`,
        'PERSISTED_QUERY_NOT_FOUND',
        400,
      );
    }
    // An APQ hash alone: Apollo Server's APQ cache answers, except in `only`, where only the
    // manifest does (the same answer as an APQ miss, so APQ clients behave as ever).
    if (mode === 'only') return refusal('PersistedQueryNotFound', 'PERSISTED_QUERY_NOT_FOUND', 200, [['cache-control', 'private, no-cache, must-revalidate']]);
    return null;
  }
}

function notAllowed(apqRegistration: boolean): GraphQLError {
  return refusal(
    apqRegistration
      ? 'This gateway runs trusted documents only (TRUSTED_DOCUMENTS=only): it does not register persisted queries that are not in its manifest.'
      : 'This gateway runs trusted documents only (TRUSTED_DOCUMENTS=only): send the `documentId` of a document in its manifest.',
    'PERSISTED_QUERY_NOT_ALLOWED',
    400,
  );
}

/** The plugin for the gateway's settings (reads the manifest: a bad one is a ConfigError). */
export function trustedDocuments(config: Pick<GatewayConfig, 'TRUSTED_DOCUMENTS' | 'TRUSTED_DOCUMENTS_MANIFEST'>, log?: Logger): ApolloServerPlugin<GatewayContext> {
  const manifest = manifestOf(config, log);
  log?.info({ mode: config.TRUSTED_DOCUMENTS, documents: manifest.size }, 'trusted documents');
  return trustedDocumentsPlugin({ mode: config.TRUSTED_DOCUMENTS, manifest });
}
