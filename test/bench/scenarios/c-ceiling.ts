/**
 * Scenario C: the ceiling. A bare node:http server answering scenario A's response bytes
 * (targets/ceiling.ts): no Node gateway on this CPU can beat it, so our gateway's RPS as a
 * fraction of it says how much of the machine's HTTP capacity the gateway work leaves. The same
 * request and checker as scenario A; our gateway is the same process as in scenario A.
 */
import { fileURLToPath } from 'node:url';
import { jsonBodyChecker } from '../lib/checker.ts';
import { expectedTestQueryResponse } from '../fixtures/federation/direct.ts';
import { FEDERATION_REQUEST, OURS } from './a-federation.ts';
import type { Scenario } from './types.ts';

export const scenarioC: Scenario = {
  id: 'C',
  title: 'Scenario C: the ceiling (bare node:http answering scenario A\'s bytes)',
  fixture: 'federation', // for our gateway, which really federates
  targets: [
    {
      id: 'ceiling',
      label: 'bare node:http, same response bytes',
      kind: 'ceiling',
      dedup: null,
      launch: (context) => ({ script: fileURLToPath(new URL('../targets/ceiling.ts', import.meta.url)), args: ['--port', String(context.port)] }),
    },
    OURS,
  ],
  baseline: 'ceiling',
  request: FEDERATION_REQUEST,
  checker: () => jsonBodyChecker(expectedTestQueryResponse()),
};
