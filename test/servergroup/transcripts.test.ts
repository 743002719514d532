/**
 * Golden transcripts of the host side: what a guest (StarlingX's guest_agent and libservergroup,
 * byte for byte as json-c writes them) and peer nodes send, and exactly what this node answers.
 * Files in testdata/*.txt:
 *
 *   @node n1                      this node
 *   guest <instance> <json>       a line from a member's channel (framed \n…\n on the wire)
 *   peer <node> <json array>      a peer packet (msgpack on the wire)
 *   => guest <instance> <json>    expected line to a member's channel
 *   => peer <node> <json array>   expected packet to a node
 *   => drop <reason> <detail>     expected drop (counted, logged)
 *
 * `{{text*N}}` in an input expands to N copies of text. UPDATE_GOLDEN=1 rewrites the expectations.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Packr } from 'msgpackr';
import { ServerGroupRelay, type RelayResult } from '../../src/servergroup/relay.js';
import { DB, STATUSES, WEB } from './fixtures.js';

const dir = join(import.meta.dirname, 'testdata');
const packr = new Packr({ useRecords: false });
const expand = (s: string): string => s.replace(/\{\{(.+?)\*(\d+)\}\}/g, (_, c: string, n: string) => c.repeat(Number(n)));

function render(r: RelayResult): string[] {
  const out: string[] = [];
  for (const d of r.drops) out.push(`=> drop ${d.reason} ${d.detail}`);
  for (const x of r.out) {
    if (x.kind === 'peer') out.push(`=> peer ${x.node} ${JSON.stringify(packr.unpack(x.payload))}`);
    else {
      assert.ok(x.line.startsWith('\n') && x.line.endsWith('\n') && !x.line.slice(1, -1).includes('\n'), 'framed as \\n{…}\\n');
      out.push(`=> guest ${x.instance} ${x.line.slice(1, -1)}`);
    }
  }
  return out;
}

function run(text: string): { got: string; expected: string } {
  let relay: ServerGroupRelay | undefined;
  const got: string[] = [];
  const expected: string[] = [];
  let now = 0;
  for (const raw of text.split('\n')) {
    if (raw.startsWith('=> ')) {
      expected.push(raw);
      continue;
    }
    if (raw === '') continue;
    expected.push(raw);
    got.push(raw);
    if (raw.startsWith('#')) continue;
    const [kind, who, ...rest] = raw.split(' ');
    const body = expand(rest.join(' '));
    if (kind === '@node') {
      relay = new ServerGroupRelay(who!);
      relay.setView([WEB, DB], STATUSES);
      continue;
    }
    assert.ok(relay, 'a transcript starts with @node');
    now += 1000;
    const r = kind === 'guest' ? relay.fromGuest(who!, body, now) : relay.fromPeer(who!, new Uint8Array(packr.pack(JSON.parse(body))));
    got.push(...render(r));
  }
  return { got: got.join('\n'), expected: expected.filter((l) => l !== '').join('\n') };
}

describe('server-group golden transcripts', () => {
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.txt'))) {
    it(f, () => {
      const path = join(dir, f);
      const text = readFileSync(path, 'utf8');
      const { got, expected } = run(text);
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(path, `${got}\n`);
      else assert.equal(got, expected);
    });
  }
});
