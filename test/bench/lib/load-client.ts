import { fileURLToPath } from 'node:url';
import type { LoadJob, LoadResult, Mark } from './load-worker.ts';
import { spawnNode, waitUntil, type Child } from './processes.ts';

const WORKER = fileURLToPath(new URL('./load-worker.ts', import.meta.url));

/** The runner's handle on a load-generator process (load-worker.ts) pinned to one CPU. */
export class LoadGenerator {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(r: LoadResult): void; reject(e: Error): void; onMark?(mark: Mark): void }>();
  private ready = false;

  private constructor(readonly child: Child) {
    child.process.on('message', (message: { ready?: boolean; id?: number; mark?: Mark; result?: LoadResult; error?: string }) => {
      if (message.ready) this.ready = true;
      if (message.id === undefined) return;
      const waiter = this.waiting.get(message.id);
      if (message.mark) return waiter?.onMark?.(message.mark);
      this.waiting.delete(message.id);
      if (message.error) waiter?.reject(new Error(`load generator: ${message.error}`));
      else waiter?.resolve(message.result!);
    });
    child.process.once('exit', () => {
      for (const waiter of this.waiting.values()) waiter.reject(new Error(`load generator exited:\n${child.tail()}`));
      this.waiting.clear();
    });
  }

  static async start(cpu: number | null, name = 'load generator'): Promise<LoadGenerator> {
    const generator = new LoadGenerator(spawnNode({ name, script: WORKER, cpu, ipc: true }));
    await waitUntil(generator.child, async () => generator.ready, 60_000);
    return generator;
  }

  get pid() {
    return this.child.pid;
  }

  /** Runs one job; `onMark` is called when the measured window opens and closes. */
  run(job: LoadJob, onMark?: (mark: Mark) => void): Promise<LoadResult> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, onMark });
      this.child.process.send({ id, job });
    });
  }

  stop() {
    return this.child.stop();
  }
}
