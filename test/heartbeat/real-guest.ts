/**
 * bin/amf-guest as a real process for the host-side tests: its config written, its stdout kept,
 * killed (thawed first) after the test; a ChannelRelay in QEMU's place in a temp dir.
 */
import type { TestContext } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ChannelRelay } from './relay.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const silent = pino({ level: 'silent' });

export interface Guest {
  readonly proc: ChildProcess;
  readonly lines: string[];
  has(text: string): boolean;
}

export function startGuest(t: TestContext, dir: string, conf: string, device: string, env: Record<string, string> = {}): Guest {
  writeFileSync(join(dir, 'guest_heartbeat.conf'), conf);
  const proc = spawn(process.execPath, [join(ROOT, 'bin', 'amf-guest.js'), '--config', join(dir, 'guest_heartbeat.conf'), '--device', device, '--api-socket', join(dir, 'api.sock'), '--name', 'vm-test'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let buf = '';
  proc.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
  });
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) {
      process.kill(proc.pid, 'SIGCONT');
      proc.kill('SIGKILL');
    }
  });
  return { proc, lines, has: (text) => lines.some((l) => l.includes(text)) };
}


export async function setup(t: TestContext): Promise<{ dir: string; relay: ChannelRelay }> {
  const dir = mkdtempSync(join(tmpdir(), 'amf-guest-'));
  const relay = new ChannelRelay(join(dir, 'host.sock'), join(dir, 'guest.sock'));
  await relay.start();
  t.after(async () => {
    await relay.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, relay };
}

