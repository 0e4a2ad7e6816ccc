// A long-running command started through a wrapper (`npx autogan worker`: npm, then a shell, then
// node) is not told when the wrapper is stopped: SIGTERM to npm ends npm, and node, re-parented,
// would keep training or serving. The command watches its parent instead and, when the parent is
// gone, stops as it would on SIGTERM.

/**
 * Calls `onGone` once when the process that started this one has exited (this process was
 * re-parented). A process started by init or a container runtime (parent pid 0 or 1) has no
 * wrapper to outlive and is not watched. Returns a function that stops watching.
 */
export function watchParent(onGone: (parentPid: number) => void, everyMs = 1000): () => void {
  const parent = process.ppid;
  if (parent <= 1) return () => undefined;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onGone(parent);
  }, everyMs);
  timer.unref(); // never the reason the process stays up
  return () => clearInterval(timer);
}
