import { posix } from 'node:path';
import type { CompEntry } from './inventory.js';

export type OcfAction = 'start' | 'stop' | 'monitor';

/** OCF exit codes and what they mean (Pacemaker Administration, "OCF return codes"). */
const OCF_CODES: Readonly<Record<number, string>> = {
  0: 'success',
  1: 'generic error',
  2: 'invalid arguments',
  3: 'unimplemented action',
  4: 'insufficient permissions',
  5: 'required software not installed',
  6: 'not configured',
  7: 'not running',
  8: 'running (promoted)',
  9: 'failed (promoted)',
  190: 'degraded',
  191: 'degraded (promoted)',
};

export const OCF_SUCCESS = 0;
export const OCF_NOT_RUNNING = 7;

export function ocfMeaning(code: number): string {
  return `OCF exit ${code} (${OCF_CODES[code] ?? 'unknown code'})`;
}

/** Whether a monitor answer means "running": success, or degraded (still serving). */
export function ocfMonitorHealthy(code: number): boolean {
  return code === OCF_SUCCESS || code === 190;
}

/** `<OCF_ROOT>/resource.d/<provider>/<type>`; provider and type are single path components. */
export function ocfAgentPath(ocfRoot: string, provider: string, agent: string): string | undefined {
  const plain = /^[A-Za-z0-9_.-]+$/;
  if (!plain.test(provider) || !plain.test(agent) || provider.startsWith('.') || agent.startsWith('.')) return undefined;
  return posix.join(ocfRoot, 'resource.d', provider, agent);
}

/**
 * The OCF environment: OCF_ROOT, the instance name (unique per component: `su_comp`), the type
 * and provider, and one `OCF_RESKEY_<name>` per entry of the component's `env {}` (entries already
 * named OCF_* pass unchanged).
 */
export function ocfEnv(entry: CompEntry, ocfRoot: string, provider: string, agent: string): Record<string, string> {
  const env: Record<string, string> = {
    OCF_ROOT: ocfRoot,
    OCF_RESOURCE_INSTANCE: `${entry.su.name}_${entry.config.name}`,
    OCF_RESOURCE_TYPE: agent,
    OCF_RESOURCE_PROVIDER: provider,
  };
  for (const [k, v] of Object.entries(entry.config.env)) env[k.startsWith('OCF_') ? k : `OCF_RESKEY_${k}`] = v;
  return env;
}
