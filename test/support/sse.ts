/** One Server-Sent Event as a client sees it. */
export interface SseEvent {
  id: string | null;
  event: string | null;
  data: any;
}

/**
 * A Server-Sent Events stream read over HTTP (fetch): `next()` resolves to the next event, or
 * null once the server has ended the stream; comment lines (heartbeats) are counted, not returned.
 */
export interface SseStream {
  status: number;
  headers: Headers;
  /** The body when the answer is not a stream (an error's JSON). */
  json: any;
  next(): Promise<SseEvent | null>;
  /** Every remaining event until the server ends the stream. */
  rest(): Promise<SseEvent[]>;
  /** Comment lines seen so far (`: heartbeat`). */
  comments: string[];
  /** Reads until a comment line has been seen (true), or the stream ends (false). */
  untilComment(): Promise<boolean>;
  close(): void;
}

export async function openSse(url: string, options: { token?: string; lastEventId?: string | number } = {}): Promise<SseStream> {
  const controller = new AbortController();
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.lastEventId !== undefined) headers['last-event-id'] = String(options.lastEventId);
  const response = await fetch(url, { headers, signal: controller.signal });
  const comments: string[] = [];
  if (!response.headers.get('content-type')?.startsWith('text/event-stream')) {
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      json: text ? JSON.parse(text) : null,
      next: async () => null,
      rest: async () => [],
      comments,
      untilComment: async () => false,
      close: () => controller.abort(),
    };
  }
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const queued: SseEvent[] = [];
  /** Parses the complete frames in the buffer; false once the stream has ended. */
  const read = async (): Promise<boolean> => {
    const chunk = await reader.read().catch(() => ({ done: true as const, value: undefined }));
    if (chunk.done) return false;
    buffer += chunk.value;
    for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event: SseEvent = { id: null, event: null, data: undefined };
      const data: string[] = [];
      for (const line of frame.split('\n')) {
        if (line.startsWith(':')) comments.push(line.slice(1).trim());
        else if (line.startsWith('id: ')) event.id = line.slice(4);
        else if (line.startsWith('event: ')) event.event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length) queued.push({ ...event, data: JSON.parse(data.join('\n')) });
    }
    return true;
  };
  const next = async (): Promise<SseEvent | null> => {
    while (!queued.length) if (!(await read())) return null;
    return queued.shift()!;
  };
  return {
    status: response.status,
    headers: response.headers,
    json: null,
    next,
    async rest() {
      const events: SseEvent[] = [];
      for (let event = await next(); event; event = await next()) events.push(event);
      return events;
    },
    comments,
    async untilComment() {
      while (!comments.length) if (!(await read())) return false;
      return true;
    },
    close: () => controller.abort(),
  };
}
