/**
 * The component kinds the agent can run, by the `type` of the model's CompKind. A new kind is one
 * driver file, one line in BUILTIN_DRIVERS and its groups.conf keys (see docs/architecture.md,
 * "Adding a component kind").
 */
import { assert } from '../../util/assert.js';
import { clccliDriver } from './clccli.js';
import { commandDriver } from './command.js';
import type { ComponentDriver, DriverFactory, DriverHost, KindName } from './driver.js';
import { ocfDriver } from './ocf.js';
import { vmDriver } from './vm.js';

export const BUILTIN_DRIVERS: readonly DriverFactory[] = [clccliDriver, commandDriver, ocfDriver, vmDriver];

export class DriverRegistry {
  private readonly factories = new Map<KindName, DriverFactory>();

  constructor(factories: readonly DriverFactory[] = BUILTIN_DRIVERS) {
    for (const f of factories) {
      assert(!this.factories.has(f.kind), `component kind ${f.kind} has two drivers`);
      this.factories.set(f.kind, f);
    }
  }

  kinds(): KindName[] {
    return [...this.factories.keys()];
  }

  has(kind: KindName): boolean {
    return this.factories.has(kind);
  }

  /** The driver for one component of the host's kind (which must have one: see has()). */
  create(host: DriverHost): ComponentDriver {
    const f = this.factories.get(host.kind.type);
    assert(f !== undefined, `no driver for component kind ${host.kind.type}`);
    return f.create(host);
  }
}
