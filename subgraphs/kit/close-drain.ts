import type { FastifyInstance } from 'fastify';

/**
 * How long a connection stays open after its last response once the server is closing
 * (Node adds its keepAliveTimeoutBuffer, 1 s, on the versions that have it).
 */
export const CLOSING_KEEP_ALIVE_MS = 100;

/**
 * `close()` finishes the requests in flight, then waits for every connection to end. Node closes
 * the connections that are idle when close begins, and Fastify answers `Connection: close` to
 * requests that arrive after it; but a request in flight at that moment leaves its connection
 * alive after its response, with the server's Keep-Alive timeout (Fastify's 72 s) as its
 * deadline, and clients keep it that long (undici follows the `Keep-Alive: timeout=72` hint).
 * So a SIGTERM during a request took up to 72 s, past a container's grace period, and a test's
 * close could time out. Node reads `keepAliveTimeout` when a response finishes: lowering it as
 * close begins ends each such connection shortly after its last response.
 *
 * Not covered: the response still says `Keep-Alive: timeout=72` (Node wrote it from the value
 * when the request came), so a client that sends again on that connection in the moment it is
 * dropped gets a reset, not Fastify's 503 for requests during close; and a request still being
 * received, or a stream nothing ends, holds close() until its client gives up.
 */
export function closeConnectionsAfterResponses(app: FastifyInstance): void {
  app.addHook('preClose', async () => {
    app.server.keepAliveTimeout = Math.min(app.server.keepAliveTimeout, CLOSING_KEEP_ALIVE_MS);
  });
}
