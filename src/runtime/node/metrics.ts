import { Counter, type Registry } from 'prom-client';

/**
 * The counter `name` on this node's registry, created on first use. Several instances of a driver
 * (two sockets, two listeners) share one counter instead of failing on a duplicate registration.
 */
export function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<L>;
  return new Counter<L>({ name, help, labelNames, registers: [registry] });
}
