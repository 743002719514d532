/** The bootstrap groups.conf (`groups_conf`): read and checked, refused with every located error. */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../model/index.js';
import { err, ok, type Result } from '../util/result.js';

const GROUPS_CONF_MAX_BYTES = 4 * 1024 * 1024;

export function readGroupsConf(path: string): Result<string, string[]> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return err([`groups_conf: cannot read ${path}: ${(e as Error).message}`]);
  }
  if (text.length > GROUPS_CONF_MAX_BYTES) return err([`groups_conf: ${path} is larger than ${GROUPS_CONF_MAX_BYTES} bytes`]);
  const loaded = loadConfig(text, path);
  return loaded.ok ? ok(text) : err(loaded.error.map((e) => `${e.file}:${e.line}:${e.col}: ${e.message}`));
}
