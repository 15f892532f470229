import type { Logger } from '../../kit/logger.ts';
import type { WebhookSigner } from './signer.ts';

/*
 * Delivery as Saleor's `send_webhook_request_async` Celery task does it
 * (saleor/webhook/transport/asynchronous/transport.py, utils.py):
 * - after the change, never inside the request that made it (the mutation has answered);
 * - POST <target> with the body, `Content-Type: application/json`, Saleor-Event (the event type
 *   in lower case: `order_created`), Saleor-Domain, Saleor-Signature, Saleor-Api-Url, and the
 *   deprecated X-Saleor-Event / X-Saleor-Domain / X-Saleor-Signature;
 * - a 2xx is delivered; a 3xx or 4xx is final, never retried (`handle_webhook_retry`); anything
 *   else (5xx, no connection, timeout) is retried after backoff * 2^retry (retry_backoff=10 s,
 *   max_retries=5: 10, 20, 40, 80, 160 s), then given up.
 */

export interface DeliveryOptions {
  signer: WebhookSigner;
  /** Saleor's domain (`Saleor-Domain`) and GraphQL URL (`Saleor-Api-Url`). */
  domain: string;
  apiUrl: string;
  backoffMs: number;
  maxRetries: number;
  timeoutMs: number;
  log: Logger;
}

export interface Delivery {
  targetUrl: string;
  /** Saleor's event type, upper case (`ORDER_CREATED`); sent lower case as Saleor does. */
  event: string;
  body: Buffer;
}

export interface Deliverer {
  send(delivery: Delivery): void;
  /** Cancels the retries still waiting and waits for the attempts in flight. */
  stop(): Promise<void>;
}

export function createDeliverer(options: DeliveryOptions): Deliverer {
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  let stopped = false;

  async function attempt(delivery: Delivery, retry: number): Promise<void> {
    const event = delivery.event.toLowerCase();
    const signature = options.signer.sign(delivery.body);
    let status: number | null = null;
    let failure: string | null = null;
    try {
      const response = await fetch(delivery.targetUrl, {
        method: 'POST',
        body: new Uint8Array(delivery.body),
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs),
        headers: {
          'content-type': 'application/json',
          'x-saleor-event': event,
          'x-saleor-domain': options.domain,
          'x-saleor-signature': signature,
          'saleor-event': event,
          'saleor-domain': options.domain,
          'saleor-signature': signature,
          'saleor-api-url': options.apiUrl,
        },
      });
      status = response.status;
      await response.arrayBuffer().catch(() => undefined);
    } catch (error) {
      failure = (error as Error).message;
    }
    const entry = { target: delivery.targetUrl, event, retry, status };
    if (status !== null && status >= 200 && status < 300) {
      options.log.debug(entry, 'saleor webhook delivered');
      return;
    }
    if (status !== null && status >= 300 && status < 500) {
      options.log.warn(entry, 'saleor webhook refused; not retried');
      return;
    }
    if (retry >= options.maxRetries || stopped) {
      options.log.warn({ ...entry, failure }, 'saleor webhook failed; retries exhausted');
      return;
    }
    const delay = options.backoffMs * 2 ** retry;
    options.log.info({ ...entry, failure, retryInMs: delay }, 'saleor webhook failed; will retry');
    const timer = setTimeout(() => {
      timers.delete(timer);
      track(attempt(delivery, retry + 1));
    }, delay);
    timers.add(timer);
  }

  function track(work: Promise<void>) {
    const settled = work.catch((error) => options.log.error({ err: error }, 'saleor webhook delivery crashed'));
    inFlight.add(settled);
    void settled.finally(() => inFlight.delete(settled));
  }

  return {
    send(delivery) {
      if (stopped) return;
      // Off the request's path: the mutation answers first.
      setImmediate(() => track(attempt(delivery, 0)));
    },
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.all(inFlight);
    },
  };
}
