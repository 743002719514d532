/**
 * What virsh prints, parsed: dominfo, domstate --reason, list --all, the lines of event --loop,
 * and the error messages that mean "no such domain" or "already exists". Pure functions; the
 * output is an external input, so anything unexpected is an error value, never an exception.
 * Formats as libvirt 9 prints them with LC_ALL=C (older wordings of the errors are accepted too).
 */
import { err, ok, type Result } from '../util/result.js';

/** Domain states in virsh's words (virshDomainStateToString). */
export const DOMAIN_STATES = ['no state', 'running', 'idle', 'paused', 'in shutdown', 'shut off', 'crashed', 'pmsuspended'] as const;
export type DomainState = (typeof DOMAIN_STATES)[number];

function asState(text: string): DomainState | undefined {
  const t = text.trim();
  return (DOMAIN_STATES as readonly string[]).includes(t) ? (t as DomainState) : undefined;
}

/** A domain that is there and executing (what "instantiated" means for a vm component). */
export function isUp(state: DomainState): boolean {
  return state === 'running' || state === 'idle' || state === 'paused' || state === 'pmsuspended' || state === 'in shutdown';
}

export interface DomInfo {
  /** Absent for a domain that is not running (`-`). */
  readonly id: number | undefined;
  readonly name: string;
  readonly uuid: string;
  readonly state: DomainState;
  readonly persistent: boolean;
}

/** `virsh dominfo NAME`: `Key:   value` lines. */
export function parseDominfo(text: string): Result<DomInfo, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z][A-Za-z ()]*?):\s*(.*)$/.exec(line.trim());
    if (m) fields.set(m[1]!, m[2]!.trim());
  }
  const name = fields.get('Name');
  const stateText = fields.get('State');
  if (name === undefined || name === '') return err('no Name line');
  if (stateText === undefined) return err('no State line');
  const state = asState(stateText);
  if (state === undefined) return err(`unknown state ${JSON.stringify(stateText)}`);
  const idText = fields.get('Id') ?? '-';
  if (idText !== '-' && !/^\d+$/.test(idText)) return err(`bad Id ${JSON.stringify(idText)}`);
  return ok({ id: idText === '-' ? undefined : Number(idText), name, uuid: fields.get('UUID') ?? '', state, persistent: fields.get('Persistent') === 'yes' });
}

/** `virsh domstate --reason NAME`: `running (booted)`. */
export function parseDomstate(text: string): Result<{ readonly state: DomainState; readonly reason: string }, string> {
  const line = text.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
  const m = /^(.*?)(?:\s*\(([^)]*)\))?$/.exec(line);
  const state = m ? asState(m[1]!) : undefined;
  if (state === undefined) return err(`not a domain state: ${JSON.stringify(line.slice(0, 80))}`);
  return ok({ state, reason: m?.[2] ?? '' });
}

export interface ListedDomain {
  readonly id: number | undefined;
  readonly name: string;
  readonly state: DomainState;
}

/** `virsh list --all`: the table, with or without its header (virsh -q). */
export function parseList(text: string): Result<ListedDomain[], string> {
  const out: ListedDomain[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || /^-+$/.test(line) || /^Id\s+Name\s+State$/.test(line)) continue;
    const m = /^(\d+|-)\s+(.+)$/.exec(line);
    // The state is the last column and may hold a blank ("shut off"): match it from the end.
    const state = m ? DOMAIN_STATES.find((s) => m[2]!.endsWith(` ${s}`)) : undefined;
    const name = m && state ? m[2]!.slice(0, -state.length).trim() : '';
    if (!m || !state || name === '') return err(`not a domain line: ${JSON.stringify(line.slice(0, 80))}`);
    out.push({ id: m[1] === '-' ? undefined : Number(m[1]), name, state });
  }
  return ok(out);
}

/** The lifecycle events libvirt reports (virshDomainEventToString). */
export const LIFECYCLE_EVENTS = ['Defined', 'Undefined', 'Started', 'Suspended', 'Resumed', 'Stopped', 'Shutdown', 'PMSuspended', 'Crashed'] as const;
export type LifecycleEventName = (typeof LIFECYCLE_EVENTS)[number];

export type EventLine =
  | { readonly kind: 'lifecycle'; readonly domain: string; readonly event: LifecycleEventName; readonly detail: string }
  /** Another event type of `--all` (reboot, rtc-change, ...): not a lifecycle change. */
  | { readonly kind: 'other'; readonly domain: string; readonly type: string }
  | { readonly kind: 'blank' };

/** One line of `virsh event --loop --all`: `event 'lifecycle' for domain 'NAME': Stopped Destroyed`. */
export function parseEventLine(line: string): Result<EventLine, string> {
  const t = line.trim();
  if (t === '') return ok({ kind: 'blank' });
  const m = /^event '([^']+)' for domain '(.*)'(?::\s*(.*))?$/.exec(t);
  if (!m) return err(`not an event line: ${JSON.stringify(t.slice(0, 120))}`);
  const [, type, domain, rest] = m;
  if (type !== 'lifecycle') return ok({ kind: 'other', domain: domain!, type: type! });
  const [event, ...detail] = (rest ?? '').split(/\s+/);
  if (!(LIFECYCLE_EVENTS as readonly string[]).includes(event ?? '')) return err(`unknown lifecycle event in ${JSON.stringify(t.slice(0, 120))}`);
  return ok({ kind: 'lifecycle', domain: domain!, event: event as LifecycleEventName, detail: detail.join(' ') });
}

/** The lifecycle events after which the domain no longer runs. */
export function endsDomain(event: LifecycleEventName): boolean {
  return event === 'Stopped' || event === 'Crashed' || event === 'Undefined';
}

/** virsh's stderr says the domain does not exist (libvirt 9: "failed to get domain"; older: "Domain not found"). */
export function saysNoDomain(stderr: string): boolean {
  return /failed to get domain|Domain not found|no domain with matching|domain is not running/i.test(stderr);
}

/** virsh create's stderr says a domain of that name (or UUID) is already there. */
export function saysExists(stderr: string): boolean {
  return /already exists|already defined|is already active/i.test(stderr);
}

/** The domain's name in a libvirt domain XML: the first <name> directly under <domain>. */
export function domainNameOf(xml: string): Result<string, string> {
  const root = /<domain(\s[^>]*)?>/.exec(xml);
  if (!root) return err('no <domain> element');
  // Skip nested elements that may themselves hold a <name> (e.g. <metadata>, <os>): take the <name> at depth 1.
  const body = xml.slice(root.index + root[0].length);
  let depth = 0;
  const tag = /<(\/?)([A-Za-z_][\w.:-]*)([^>]*?)(\/?)>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[[\s\S]*?\]\]>/g;
  for (let m = tag.exec(body); m; m = tag.exec(body)) {
    if (m[2] === undefined) continue; // comment, PI, CDATA
    if (m[1] === '/') {
      if (depth === 0) break; // </domain>
      depth -= 1;
      continue;
    }
    if (m[4] === '/') continue;
    if (depth === 0 && m[2] === 'name') {
      const end = body.indexOf('</name>', tag.lastIndex);
      const name = end < 0 ? '' : body.slice(tag.lastIndex, end).trim();
      if (name === '' || /[<>/]/.test(name)) return err('an empty or malformed <name>');
      return ok(unescapeXml(name));
    }
    depth += 1;
  }
  return err('no <name> in <domain>');
}

/** XML's five predefined entities, decoded. */
function unescapeXml(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&apos;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');
}

/** An attribute of one start tag (its text between `<x` and `>`), decoded. */
function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:'([^']*)'|"([^"]*)")`).exec(tag);
  return m ? unescapeXml(m[1] ?? m[2] ?? '') : undefined;
}

/**
 * The host socket of a virtio-serial channel in a domain XML: the `<channel type='unix'>` whose
 * `<target type='virtio' name='…'>` is `target` (libvirt's form for guest agents), its
 * `<source path='…'>`.
 */
export function unixChannelOf(xml: string, target: string): Result<string, string> {
  const channel = /<channel\b([^>]*)>([\s\S]*?)<\/channel>/g;
  for (let m = channel.exec(xml); m; m = channel.exec(xml)) {
    if (attr(m[1] ?? '', 'type') !== 'unix') continue;
    const body = m[2] ?? '';
    const t = /<target\b([^>]*)>/.exec(body);
    if (!t || attr(t[1] ?? '', 'name') !== target) continue;
    const src = /<source\b([^>]*)>/.exec(body);
    const path = src ? attr(src[1] ?? '', 'path') : undefined;
    if (path === undefined || path === '') return err(`the unix channel ${target} has no source path`);
    return ok(path);
  }
  return err(`no <channel type='unix'> with target name '${target}'`);
}
