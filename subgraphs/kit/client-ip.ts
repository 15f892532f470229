import type { FastifyRequest } from 'fastify';

/** A trusted-proxies setting (config `trustedProxies`) as Fastify's `trustProxy` option. */
export const fastifyTrustProxy = (setting: boolean | number | string[]) =>
  // A hop count: believe the nearest n hops of X-Forwarded-For.
  typeof setting === 'number' ? (_address: string, hop: number) => hop < setting : setting;

/**
 * The caller's IP: the socket peer, or the X-Forwarded-For entry Fastify settled on when that
 * peer is a trusted proxy (a client-sent header is never believed otherwise). IPv4 as dotted
 * quad, not IPv4-mapped IPv6, so one client has one rate-limit key.
 */
export function clientIp(request: FastifyRequest): string {
  const ip = request.ip;
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
