/*
 * The contract between the agents subgraph, which publishes every committed run event on Redis
 * (runs/events.ts), and the gateway, which fans them out to Server-Sent Events streams
 * (gateway/run-events.ts): the channel's name and the message's shape. Both import it from here.
 */

/** The Redis channel of one run's events. */
export const runEventsChannel = (prefix: string, runId: string) => `${prefix}agents:run-events:${runId}`;

/** An event as the agents subgraph publishes it (and as `AgentRun.events` serves it). */
export interface PublishedRunEvent {
  seq: number;
  at: string;
  type: string;
  status?: string | null;
  progress?: number | null;
  message?: string | null;
  data?: unknown;
}

/** The message published for one event (JSON). */
export interface RunEventMessage {
  tenantId: string;
  runId: string;
  event: PublishedRunEvent;
}
