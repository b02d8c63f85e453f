/** A small typed publish/subscribe bus: the device core publishes, consumers subscribe (STYLE.md). */
export interface EventBus<Events extends Record<string, unknown>> {
  on<K extends keyof Events>(event: K, handler: (payload: Events[K]) => void): () => void;
  emit<K extends keyof Events>(event: K, payload: Events[K]): void;
}

export function createEventBus<Events extends Record<string, unknown>>(
  onHandlerError: (event: string, err: unknown) => void,
): EventBus<Events> {
  const handlers = new Map<keyof Events, Set<(payload: never) => void>>();
  return {
    on(event, handler) {
      let set = handlers.get(event);
      if (!set) {
        set = new Set();
        handlers.set(event, set);
      }
      set.add(handler as (payload: never) => void);
      return () => set.delete(handler as (payload: never) => void);
    },
    emit(event, payload) {
      const set = handlers.get(event);
      if (!set) return;
      for (const handler of [...set]) {
        // One consumer's bug must not stop the others from hearing the event.
        try {
          (handler as (p: typeof payload) => void)(payload);
        } catch (err) {
          onHandlerError(String(event), err);
        }
      }
    },
  };
}
