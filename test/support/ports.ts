import { createServer } from 'node:net';

/*
 * Ports for the test's own listeners, picked below Linux's ephemeral range (32768-60999). A port
 * the OS hands out with `listen(0)` sits in that range, and so does the local port of every
 * outgoing connection: between our probe and the real listen, another test's Redis or HTTP
 * client could take it (a CI run failed on exactly that: EADDRINUSE). Below the range nothing
 * takes a port by chance. Each vitest fork gets its own block, so two test files running at once
 * never pick the same port; outside vitest (benchmarks, which spawn processes that pick ports
 * too) a random block.
 */
const FIRST = 20_000;
const BLOCK = 1_000;
const BLOCKS = 12; // 20000-31999: under 32768

const pool = Number(process.env.VITEST_POOL_ID ?? 0);
const block = pool > 0 ? (pool - 1) % BLOCKS : Math.floor(Math.random() * BLOCKS);
let next = Math.floor(Math.random() * BLOCK);

/** Free TCP ports on 127.0.0.1, each checked by binding it briefly; never the same twice in a process. */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < count; tries++) {
    if (tries >= BLOCK) throw new Error(`no free port left in ${FIRST + block * BLOCK}-${FIRST + (block + 1) * BLOCK - 1}`);
    const port = FIRST + block * BLOCK + (next++ % BLOCK);
    if (await canListen(port)) ports.push(port);
  }
  return ports;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
