/**
 * A schema built on its first use instead of when its module is imported (issue 17).
 *
 * Every zod schema costs about 13 µs and a few hundred bytes of heap to construct. Each start
 * built all 1,600 of them, although a station without drivers, AIRI modules, a cloud link or a
 * BLE helper never parses their frames. `deferred(() => z.object(…))` returns a stand-in that
 * builds the schema on the first property read (`parse`, `safeParse`, `_zod`, …) and forwards
 * every read after that. It composes: zod reads a nested schema only through its properties, so
 * a deferred schema inside another schema works, and is built when the outer one first is.
 *
 * Not for schemas with `.meta({ id })`: zod's registry knows the built schema, not the stand-in,
 * so the OpenAPI document would lose the component's name.
 */
export function deferred<T extends object>(build: () => T): T {
  let built: T | undefined;
  const schema = (): T => {
    built ??= build();
    return built;
  };
  // Methods are bound to the built schema once per name, so `const { parse } = s` and hot-path
  // calls do not allocate a new bound function on every read.
  const bound = new Map<PropertyKey, { method: unknown; call: unknown }>();
  return new Proxy(Object.create(null) as T, {
    get(_target, key) {
      const real = schema();
      const value: unknown = Reflect.get(real, key, real);
      if (typeof value !== "function") return value;
      const known = bound.get(key);
      if (known?.method === value) return known.call;
      const call = (value as (...args: unknown[]) => unknown).bind(real);
      bound.set(key, { method: value, call });
      return call;
    },
    set: (_target, key, value) => Reflect.set(schema(), key, value),
    has: (_target, key) => Reflect.has(schema(), key),
    ownKeys: () => Reflect.ownKeys(schema()),
    getOwnPropertyDescriptor(_target, key) {
      const descriptor = Reflect.getOwnPropertyDescriptor(schema(), key);
      // A proxy may not report a property as non-configurable that its (empty) target lacks.
      return descriptor && { ...descriptor, configurable: true };
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(schema()),
  });
}
