/**
 * groups.conf: the `guest_heartbeat { … }` block of a component (issue 18): the host side of the
 * StarlingX guest heartbeat for the guest this component runs. Minimal on purpose: the guest
 * announces its interval, corrective action and vote / notice / restart timeouts in its `init`
 * message (ha-anchors.md §5.2); the host only needs to know where the guest's channel is. An empty
 * block on a vm component enables the heartbeat over the domain's channel. Part of the model
 * layer (imports model/ primitives only).
 */
import { absolutePath, optional, type BuildContext, type CheckedBlock } from '../model/checked.js';
import type { ItemList } from '../model/items.js';
import type { SourceLoc } from '../model/loc.js';
import type { AmfModel } from '../model/types.js';
import { textKey, type BlockSpec } from '../model/spec.js';

export interface GuestHeartbeatConfig {
  /**
   * The host end of the guest's heartbeat channel: a unix stream socket that QEMU serves (libvirt
   * `<channel type='unix'>`). Unset (vm components only): the domain's heartbeat channel.
   */
  readonly channel?: string;
  readonly loc: SourceLoc;
}

export const GUEST_HEARTBEAT_BLOCK: BlockSpec = {
  keys: { channel: textKey },
  blocks: {},
  single: true,
};

/** `vm`: the component is a vm, whose domain XML names the channel when none is given. */
export function buildGuestHeartbeat(ctx: BuildContext, b: CheckedBlock, comp: string, vm: boolean): GuestHeartbeatConfig {
  const channel = absolutePath(ctx, b, 'channel', `component ${comp}: guest_heartbeat`);
  if (channel === undefined && !vm) ctx.error(b.loc, `component ${comp}: guest_heartbeat needs "channel" (only a vm component's defaults to its domain's heartbeat channel)`);
  return { ...optional('channel', channel), loc: b.loc };
}

export function printGuestHeartbeat(g: GuestHeartbeatConfig, l: ItemList): ItemList {
  return l.set('channel', g.channel);
}

/** The components of the model with a guest_heartbeat block, keyed by heartbeatKey(su, comp). */
export function heartbeatedComponents(model: AmfModel): ReadonlySet<string> {
  return new Set(model.groups.flatMap((g) => g.units.flatMap((u) => u.components.filter((c) => c.guestHeartbeat !== undefined).map((c) => heartbeatKey(u.name, c.name)))));
}

export const heartbeatKey = (su: string, comp: string): string => JSON.stringify([su, comp]);
