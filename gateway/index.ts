import { loadConfig } from '../subgraphs/kit/config.ts';
import { createGateway } from './server.ts';

// `npm run start:gateway`: the gateway alone on GATEWAY_PORT (8001); SIGINT/SIGTERM drain and exit.
const gateway = await createGateway({ config: loadConfig() });
const url = await gateway.listen();
process.stdout.write(`gateway ready at ${url}/graphql\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void gateway.close().then(() => process.exit(0)));
