/** Adds `handler` to a set of listeners and returns the function that removes it again. */
export function listen<T>(listeners: Set<T>, handler: T): () => void {
  listeners.add(handler);
  return () => {
    listeners.delete(handler);
  };
}
