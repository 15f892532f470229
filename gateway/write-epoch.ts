/*
 * The gateway's write epoch: a counter that moves each time a mutation's subgraph fetch ends
 * (subgraph-client.ts). In-flight deduplication keys (subgraph fetches and whole operations)
 * carry the epoch their request started in, so a read that starts after a write has ended never
 * shares the answer of an identical read that started before it (read-your-writes: a list
 * refetched after a mutation shows it). One counter for every caller: a write anywhere only
 * makes sharing a little rarer, never wrong.
 */
let epoch = 0;

/** The current write epoch. */
export const writeEpoch = (): number => epoch;

/** A write ended: reads from now on start a new epoch. */
export const wrote = (): void => {
  epoch++;
};
