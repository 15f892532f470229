// Preloaded into a real entry point (`node --import tsx --import ./test/support/crash-on-signal.ts
// <entry>`) by crash.test.ts: on SIGUSR2 the process fails the way CRASH_WITH says, `throw` (an
// exception nothing catches) or `reject` (a rejected promise nothing handles), as a bug would
// once the server is up.
process.on('SIGUSR2', () => {
  if (process.env.CRASH_WITH === 'reject') void Promise.reject(new Error('crash test: rejected'));
  else throw new Error('crash test: thrown');
});
