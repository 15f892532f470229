import pg from 'pg';
import type { Logger } from '../logger.ts';

/**
 * The channel a trigger on pg-boss's job table notifies (install.ts) whenever a job becomes
 * ready to fetch, now or later: sent, retried, resumed, or sent by a schedule, from any process.
 * The payload is `<queue> <ms until it is due>`; PostgreSQL delivers it when the transaction
 * commits (a rolled-back send wakes no one).
 */
export const WAKEUP_CHANNEL = 'kit_jobs_ready';

/** `<queue> <delay ms>` as the trigger writes it; undefined for anything else. */
export function parseWakeup(payload: string | undefined): { queue: string; delayMs: number } | undefined {
  const match = /^(\S+) (\d+)$/.exec(payload ?? '');
  return match ? { queue: match[1]!, delayMs: Number(match[2]) } : undefined;
}

export interface WakeupListenerOptions {
  url: string;
  log: Logger;
  /** A job of `queue` is due in `delayMs`. */
  onReady(queue: string, delayMs: number): void;
  /** The listener is (again) connected: what was sent while it was not may be waiting. */
  onListening(): void;
  /** The connection is lost: idle workers go back to their queues' polling intervals now. */
  onLost(): void;
  /** First wait before reconnecting a lost connection (doubles up to 30 s). Default 1 s. */
  reconnectMs?: number;
}

/**
 * One connection per job system that LISTENs on WAKEUP_CHANNEL, so idle workers need not poll
 * (`listening` tells them which interval to keep). A lost connection is reconnected with a
 * doubling delay; until then the workers poll at their queues' own intervals.
 */
export class WakeupListener {
  private client: pg.Client | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private delayMs: number;
  /** Whether notifications arrive now. */
  listening = false;

  constructor(private readonly options: WakeupListenerOptions) {
    this.delayMs = options.reconnectMs ?? 1_000;
  }

  start(): void {
    if (this.stopped || this.client) return;
    const client = new pg.Client({ connectionString: this.options.url, application_name: 'bizosaas-jobs-listen' });
    this.client = client;
    const lost = (error?: Error) => {
      if (this.client !== client) return;
      this.client = undefined;
      const wasListening = this.listening;
      this.listening = false;
      if (wasListening && !this.stopped) this.options.onLost();
      client.removeAllListeners('notification');
      void client.end().catch(() => undefined);
      if (this.stopped) return;
      this.options.log.warn({ err: error?.message, retryInMs: this.delayMs }, 'job wake-ups lost: workers poll until the listener reconnects');
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.start();
      }, this.delayMs).unref();
      this.delayMs = Math.min(this.delayMs * 2, 30_000);
    };
    client.on('error', lost);
    client.on('end', () => lost(new Error('connection ended')));
    client.on('notification', (message) => {
      const ready = message.channel === WAKEUP_CHANNEL ? parseWakeup(message.payload) : undefined;
      if (ready) this.options.onReady(ready.queue, ready.delayMs);
    });
    client
      .connect()
      .then(() => client.query(`LISTEN ${WAKEUP_CHANNEL}`))
      .then(() => {
        if (this.client !== client) return;
        this.listening = true;
        this.delayMs = this.options.reconnectMs ?? 1_000;
        this.options.onListening();
      })
      .catch(lost);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    this.listening = false;
    await client?.end().catch(() => undefined);
  }
}
