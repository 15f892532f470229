import { Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import { hit } from '../subgraphs/kit/rate-limit.ts';
const m = new (RedisMock as any)();
console.log(await hit(m, 'k', 2, 10), await hit(m, 'k', 2, 10), await hit(m, 'k', 2, 10));
const r = new Redis('redis://127.0.0.1:6379');
await r.del('k');
console.log(await hit(r, 'k', 2, 10), await hit(r, 'k', 2, 10), await hit(r, 'k', 2, 10));
r.disconnect();
