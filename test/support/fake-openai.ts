import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HashEmbedder } from '../../subgraphs/kit/vectors/hash-embedder.ts';

/**
 * A local OpenAI-compatible server for tests, on a free port: `POST /v1/chat/completions`
 * (streamed as SSE chunks when asked, or one JSON answer), with scripted replies (text, tool
 * calls, usage numbers, a failure status, a slow answer), and `POST /v1/embeddings` (vectors of
 * EMBEDDING_DIMENSIONS from a hashing embedder, so similar texts get similar vectors). Every
 * request is recorded.
 */

export interface FakeReply {
  /** The answer's text (streamed in `chunks` pieces). */
  text?: string;
  /** Tool calls the model makes instead of (or with) text: finish reason `tool_calls`. */
  toolCalls?: { name: string; arguments: Record<string, unknown> }[];
  /** Tokens reported; null reports none. Default 100 in, 20 out. */
  usage?: { input: number; output: number } | null;
  /** Fail with this HTTP status (and a body naming internals no member may see). */
  status?: number;
  /** Wait this long before answering (a slow model); the wait ends when the client hangs up. */
  delayMs?: number;
  chunks?: number;
}

export interface RecordedRequest {
  path: string;
  authorization: string | undefined;
  body: any;
}

export interface FakeOpenAI {
  /** The API's base URL (`http://127.0.0.1:<port>/v1`): LLM_BASE_URL. */
  url: string;
  requests: RecordedRequest[];
  /** Chat requests only. */
  chats(): RecordedRequest[];
  /** Replies for the next chat requests, in order; past them every request gets `fallback`. */
  script(...replies: FakeReply[]): void;
  fallback: FakeReply;
  /** Drops the scripted replies not used. */
  clear(): void;
  close(): Promise<void>;
}

export const FAKE_API_KEY = 'sk-test-fake-key-0123456789';
export const EMBEDDING_DIMENSIONS = 64;
/** In every failure's body: a test checks it never reaches a member. */
export const PROVIDER_SECRET = 'internal-cluster-gpu-7 trace 5f2a';

export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const requests: RecordedRequest[] = [];
  const queue: FakeReply[] = [];
  const embedder = new HashEmbedder({ dimensions: EMBEDDING_DIMENSIONS, model: 'fake' });
  let calls = 0;

  const fake: FakeOpenAI = {
    url: '',
    requests,
    chats: () => requests.filter((r) => r.path.endsWith('/chat/completions')),
    script: (...replies) => void queue.push(...replies),
    fallback: { text: 'OK.' },
    clear: () => void queue.splice(0),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  async function chat(body: any, req: IncomingMessage, res: ServerResponse) {
    const reply = queue.shift() ?? fake.fallback;
    if (reply.delayMs) {
      const hungUp = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), reply.delayMs);
        res.once('close', () => (clearTimeout(timer), resolve(true)));
      });
      if (hungUp) return;
    }
    if (reply.status) {
      // As OpenAI's API does: when to retry (the SDK's own retry then waits 20 ms, not its 2 s default).
      res.writeHead(reply.status, { 'content-type': 'application/json', 'retry-after-ms': '20' });
      res.end(JSON.stringify({ error: { message: `upstream exploded at ${PROVIDER_SECRET}`, type: 'server_error', code: null } }));
      return;
    }
    const id = `chatcmpl-${++calls}`;
    const created = Math.floor(Date.now() / 1000);
    const usage = reply.usage === null ? undefined : (reply.usage ?? { input: 100, output: 20 });
    const usageBody = usage && { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output };
    const toolCalls = (reply.toolCalls ?? []).map((call, i) => ({ id: `call_${calls}_${i}`, type: 'function', function: { name: call.name, arguments: JSON.stringify(call.arguments) } }));
    const finish = toolCalls.length ? 'tool_calls' : 'stop';
    const text = reply.text ?? (toolCalls.length ? '' : 'OK.');

    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created,
          model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: text || null, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) }, finish_reason: finish }],
          ...(usageBody ? { usage: usageBody } : {}),
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const send = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, choices, ...extra })}\n\n`);
    send([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
    const pieces = Math.max(1, Math.min(reply.chunks ?? 4, text.length || 1));
    const size = Math.ceil(text.length / pieces);
    for (let i = 0; i < text.length; i += size) {
      send([{ index: 0, delta: { content: text.slice(i, i + size) }, finish_reason: null }]);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    toolCalls.forEach((call, index) => send([{ index: 0, delta: { tool_calls: [{ index, ...call }] }, finish_reason: null }]));
    send([{ index: 0, delta: {}, finish_reason: finish }]);
    if (usageBody && body.stream_options?.include_usage) send([], { usage: usageBody });
    res.end('data: [DONE]\n\n');
  }

  async function embeddings(body: any, res: ServerResponse) {
    const input: string[] = Array.isArray(body.input) ? body.input : [body.input];
    const vectors = await embedder.embed(input);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        object: 'list',
        model: body.model,
        data: vectors.map((vector, index) => ({ object: 'embedding', index, embedding: Array.from(vector) })),
        usage: { prompt_tokens: input.join(' ').length, total_tokens: input.join(' ').length },
      }),
    );
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: any;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
      } catch {
        body = null;
      }
      const path = (req.url ?? '').split('?')[0]!;
      requests.push({ path, authorization: req.headers.authorization, body });
      const answer =
        req.method === 'POST' && path === '/v1/chat/completions'
          ? chat(body, req, res)
          : req.method === 'POST' && path === '/v1/embeddings'
            ? embeddings(body, res)
            : Promise.resolve(void res.writeHead(404).end());
      answer.catch((error) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return fake;
}
