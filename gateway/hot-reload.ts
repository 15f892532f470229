import { createHash } from 'node:crypto';
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { composeServices } from '@apollo/composition';
import { Supergraph } from '@apollo/federation-internals';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions, SupergraphManager, SupergraphSdlUpdateFunction } from '@apollo/gateway';
import { parse } from 'graphql';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../subgraphs/kit/logger.ts';

/*
 * Supergraph hot reload: the gateway applies a new supergraph without a restart.
 *
 * Where the supergraph comes from (`supergraphOrigin`):
 * - a string given to createGateway (tests): served as it is, never reloaded;
 * - with SALEOR_API_URL (a real Saleor, whose schema is not ours): every subgraph's SDL
 *   (`_service { sdl }`) composed at start, and again every SUPERGRAPH_INTROSPECT_POLL_MS
 *   (composition runs only when an SDL changed) and on `reload()` (SIGHUP);
 * - else the supergraph file (SUPERGRAPH_FILE, default schema/supergraph.graphql): read at start,
 *   and again on `reload()` (SIGHUP) and, with SUPERGRAPH_WATCH, when it changes: fs.watch on its
 *   directory (an atomic rename or a Kubernetes ConfigMap's symlink swap replaces the file), a
 *   debounce (SUPERGRAPH_WATCH_DEBOUNCE_MS) for editors and copies that write in several steps,
 *   and a stat every SUPERGRAPH_POLL_MS for what fs.watch misses (network and some container
 *   filesystems); only a changed content counts.
 *
 * A candidate is parsed and validated as a supergraph (and its API schema built) before the
 * gateway sees it; one that does not compose, parse or load is refused: logged once (the same
 * content is not logged or counted again), counted in gateway_supergraph_reloads_total{outcome=
 * "refused"}, and the current supergraph keeps serving. An applied one goes to Apollo Gateway's
 * `update`: operations already running finish on the schema they started with, the next ones
 * get the new one; query plans are made again as operations arrive (the plan cache is emptied),
 * which is how the REST shim's prepared operations follow a reload. Reloads run one at a time.
 */

export type ReloadOutcome = 'applied' | 'unchanged' | 'refused' | 'static';

export type SupergraphOrigin =
  | { kind: 'static'; sdl: string }
  | {
      kind: 'file';
      file: string;
      /** Watch the file (fs.watch plus a stat every pollMs). */
      watch: boolean;
      debounceMs: number;
      /** 0: fs.watch alone (the stat still runs, every 5 s, if fs.watch cannot be used). */
      pollMs: number;
    }
  | { kind: 'introspect'; subgraphs: readonly { name: string; url: string }[]; pollMs: number };

export interface SupergraphReloader extends SupergraphManager {
  /** Loads the supergraph again now (file: read it; introspect: the subgraphs' SDL); `trigger` is logged. */
  reload(trigger?: string): Promise<ReloadOutcome>;
}

/** Stat interval when fs.watch fails and no SUPERGRAPH_POLL_MS was set. */
const FALLBACK_POLL_MS = 5_000;
const SERVICE_SDL_QUERY = 'query __ApolloGetServiceDefinition__ { _service { sdl } }';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error)).slice(0, 2_000);

/** Throws unless `sdl` is a supergraph Apollo Gateway can load (what `update` would throw on, and more). */
export function validateSupergraph(sdl: string): void {
  Supergraph.build(sdl, { validateSupergraph: true }).apiSchema();
}

/** Composes subgraph SDL; throws with every composition error. */
function compose(subgraphs: readonly { name: string; url: string; sdl: string }[]): string {
  const result = composeServices(subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.sdl) })));
  if (result.errors?.length || !result.supergraphSdl) {
    throw new Error(`the subgraphs do not compose: ${(result.errors ?? []).map((e) => e.message).join('; ')}`);
  }
  return result.supergraphSdl;
}

async function serviceSdl(dataSource: GraphQLDataSource, name: string): Promise<string> {
  // (The LOADING_SCHEMA kind: the enum is not exported at run time.)
  const request = { kind: 'loading schema', request: { query: SERVICE_SDL_QUERY }, context: {} } as unknown as GraphQLDataSourceProcessOptions;
  const response = await dataSource.process(request);
  const sdl = (response.data as { _service?: { sdl?: unknown } } | undefined)?._service?.sdl;
  if (response.errors?.length || typeof sdl !== 'string') {
    throw new Error(`subgraph ${name}: no SDL (${response.errors?.map((e) => e.message).join('; ') ?? 'no _service.sdl'})`);
  }
  return sdl;
}

/**
 * The gateway's supergraph source (Apollo Gateway's `supergraphSdl` option) with hot reload, and
 * its metrics on `registry`: gateway_supergraph_reloads_total{outcome} (applied, refused) and
 * gateway_supergraph_loaded_timestamp_seconds.
 */
export function createSupergraphReloader(origin: SupergraphOrigin, options: { log: Logger; registry: Registry }): SupergraphReloader {
  const { log } = options;
  const reloads = new Counter({
    name: 'gateway_supergraph_reloads_total',
    help: 'Supergraph reloads by outcome: applied (now serving), refused (did not parse, compose or load; the previous one keeps serving)',
    labelNames: ['outcome'] as const,
    registers: [options.registry],
  });
  for (const outcome of ['applied', 'refused']) reloads.inc({ outcome }, 0);
  const loadedAt = new Gauge({
    name: 'gateway_supergraph_loaded_timestamp_seconds',
    help: 'When the supergraph being served was loaded (Unix time, seconds)',
    registers: [options.registry],
  });

  let update: SupergraphSdlUpdateFunction | null = null;
  let getDataSource: ((service: { name: string; url: string }) => GraphQLDataSource) | null = null;
  /** The key (content hash) of what is served, and of the last candidate refused. */
  let servedKey = '';
  let refusedKey = '';
  let stopped = false;
  let chain: Promise<unknown> = Promise.resolve();
  const cleanups: (() => void)[] = [];

  /** The current candidate: a key for its input, and how to make its supergraph SDL. */
  async function candidate(): Promise<{ key: string; sdl: () => string }> {
    if (origin.kind === 'static') return { key: sha256(origin.sdl), sdl: () => origin.sdl };
    if (origin.kind === 'file') {
      const text = await readFile(origin.file, 'utf8');
      return { key: sha256(text), sdl: () => text };
    }
    const sources = await Promise.all(
      origin.subgraphs.map(async ({ name, url }) => ({ name, url, sdl: await serviceSdl(getDataSource!({ name, url }), name) })),
    );
    // Composing a Saleor-sized graph costs about a second of CPU: only when an SDL changed.
    return { key: sha256(JSON.stringify(sources.map((s) => [s.name, s.sdl]))), sdl: () => compose(sources) };
  }

  async function attempt(trigger: string): Promise<ReloadOutcome> {
    if (origin.kind === 'static') return 'static';
    if (stopped || !update) return 'unchanged';
    const started = performance.now();
    let key = '';
    try {
      const next = await candidate();
      key = next.key;
      if (key === servedKey) return 'unchanged';
      if (key === refusedKey) return 'refused'; // logged and counted when first seen
      const sdl = next.sdl();
      validateSupergraph(sdl);
      if (stopped) return 'unchanged';
      update(sdl);
      servedKey = key;
      refusedKey = '';
      reloads.inc({ outcome: 'applied' });
      loadedAt.setToCurrentTime();
      log.info({ trigger, source: origin.kind === 'file' ? origin.file : 'subgraphs', ms: Math.round(performance.now() - started) }, 'supergraph reloaded');
      return 'applied';
    } catch (error) {
      // (No key: the candidate could not be read, e.g. a subgraph is down; the same error is logged once too.)
      const refused = key || `error: ${messageOf(error)}`;
      if (refused === refusedKey) return 'refused';
      refusedKey = refused;
      reloads.inc({ outcome: 'refused' });
      log.error(
        { trigger, source: origin.kind === 'file' ? origin.file : 'subgraphs', err: messageOf(error) },
        'supergraph refused: it does not parse, compose or load; the current one keeps serving',
      );
      return 'refused';
    }
  }

  function reload(trigger = 'reload'): Promise<ReloadOutcome> {
    const next = chain.then(() => attempt(trigger));
    chain = next.catch(() => undefined);
    return next;
  }

  function watchFile(file: string, debounceMs: number, pollMs: number) {
    let timer: NodeJS.Timeout | undefined;
    const schedule = (trigger: string) => {
      clearTimeout(timer);
      timer = setTimeout(() => void reload(trigger), debounceMs);
      timer.unref();
    };
    cleanups.push(() => clearTimeout(timer));
    let polling = false;
    const startPolling = (ms: number) => {
      if (polling || stopped) return;
      polling = true;
      let seen = '';
      const signature = async () => {
        const s = await stat(file).catch(() => null);
        return s ? `${s.ino}:${s.size}:${s.mtimeMs}` : 'missing';
      };
      void signature().then((s) => (seen ||= s));
      const interval = setInterval(() => {
        void signature().then((s) => {
          if (s === seen) return;
          seen = s;
          if (s !== 'missing') schedule('file changed (poll)');
        });
      }, ms);
      interval.unref();
      cleanups.push(() => clearInterval(interval));
    };
    try {
      // The directory, not the file: a rename over it (editors, `mv`, ConfigMap updates) ends a file watch.
      const watcher: FSWatcher = watch(dirname(file), { persistent: false }, () => schedule('file changed'));
      watcher.on('error', (error) => {
        log.warn({ file, err: messageOf(error) }, 'supergraph: watching the file failed; checking it by polling');
        watcher.close();
        startPolling(pollMs || FALLBACK_POLL_MS);
      });
      cleanups.push(() => watcher.close());
    } catch (error) {
      log.warn({ file, err: messageOf(error) }, 'supergraph: cannot watch the file; checking it by polling');
      startPolling(pollMs || FALLBACK_POLL_MS);
    }
    if (pollMs) startPolling(pollMs);
  }

  return {
    reload,
    async initialize(hooks) {
      update = hooks.update;
      getDataSource = hooks.getDataSource;
      // The first load: a failure stops the gateway's start (no supergraph to serve yet).
      const first = await candidate();
      const sdl = first.sdl();
      servedKey = first.key;
      loadedAt.setToCurrentTime();
      if (origin.kind === 'file' && origin.watch) watchFile(origin.file, origin.debounceMs, origin.pollMs);
      if (origin.kind === 'introspect' && origin.pollMs > 0) {
        const interval = setInterval(() => void reload('poll subgraphs'), origin.pollMs);
        interval.unref();
        cleanups.push(() => clearInterval(interval));
      }
      return {
        supergraphSdl: sdl,
        async cleanup() {
          stopped = true;
          for (const cleanup of cleanups) cleanup();
          await chain;
        },
      };
    },
  };
}

/** Where the gateway's supergraph comes from (see the top of this file). */
export function supergraphOrigin(
  options: { supergraphSdl?: string; saleorApiUrl?: string; urls: Record<string, string> },
  settings: {
    file: string;
    watch: boolean;
    debounceMs: number;
    pollMs: number;
    introspectPollMs: number;
  },
): SupergraphOrigin {
  if (options.supergraphSdl) return { kind: 'static', sdl: options.supergraphSdl };
  if (options.saleorApiUrl) {
    return { kind: 'introspect', subgraphs: Object.entries(options.urls).map(([name, url]) => ({ name, url })), pollMs: settings.introspectPollMs };
  }
  if (!existsSync(settings.file)) throw new Error(`${settings.file} is missing: run \`npm run compose\``);
  return { kind: 'file', file: settings.file, watch: settings.watch, debounceMs: settings.debounceMs, pollMs: settings.pollMs };
}

/**
 * SIGHUP reloads the supergraph (the entry points install it; a process-wide signal is theirs to
 * own). Returns the function that removes the handler.
 */
export function reloadOnSighup(reload: (trigger: string) => unknown): () => void {
  const handler = () => void reload('SIGHUP');
  process.on('SIGHUP', handler);
  return () => process.off('SIGHUP', handler);
}
