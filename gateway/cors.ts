import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/*
 * CORS: which browser origins may call the gateway.
 * - CORS_ORIGINS (comma-separated), everywhere; none by default.
 * - Outside production also Apollo Sandbox, so a developer can explore a local gateway from
 *   Apollo's hosted Sandbox (its requests come from https://studio.apollographql.com; Sandbox
 *   embedded in a page of one's own runs in an iframe from https://sandbox.embed.apollographql.com).
 *   The IDE page links to it (gateway/ide.ts). In production only CORS_ORIGINS.
 * Credentials (cookies) are never allowed: callers send a bearer token.
 */

export const APOLLO_SANDBOX_ORIGINS: readonly string[] = ['https://studio.apollographql.com', 'https://sandbox.embed.apollographql.com'];

/**
 * Request headers a cross-origin caller may send: ours, CSRF prevention's, and those Apollo's
 * clients and Sandbox send (client awareness, operation name for CSRF prevention).
 */
export const CORS_ALLOWED_HEADERS: readonly string[] = [
  'authorization',
  'content-type',
  'x-request-id',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'apollographql-client-name',
  'apollographql-client-version',
];

/** The origins allowed: CORS_ORIGINS, plus Apollo Sandbox's outside production. */
export function corsOrigins(configured: readonly string[], production: boolean): string[] {
  return [...new Set([...configured, ...(production ? [] : APOLLO_SANDBOX_ORIGINS)])];
}

/** Registers CORS for the origins allowed (nothing when there are none: no CORS headers at all). */
export async function registerCors(app: FastifyInstance, options: { origins: readonly string[]; production: boolean }): Promise<void> {
  const origins = corsOrigins(options.origins, options.production);
  if (!origins.length) return;
  await app.register(cors, {
    origin: origins,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    allowedHeaders: [...CORS_ALLOWED_HEADERS],
    exposedHeaders: ['x-request-id', 'retry-after'],
    maxAge: 600,
  });
}
