/**
 * Children that `npm start` runs get a stdin pipe from the supervisor and PFD_SUPERVISED=1. If the supervisor dies
 * without stopping them (killed, or its terminal closed), the pipe reaches end-of-file and the child stops itself
 * the normal way (SIGTERM to itself runs its own graceful shutdown), so nothing is left running.
 */
export function stopWhenSupervisorGone(): void {
  if (process.env.PFD_SUPERVISED !== '1') return;
  const gone = () => process.kill(process.pid, 'SIGTERM');
  process.stdin.once('end', gone);
  process.stdin.once('close', gone);
  process.stdin.resume();
  // The pipe must not keep an otherwise finished process alive.
  (process.stdin as unknown as { unref?: () => void }).unref?.();
}
