import { err, ok, type Result } from '../util/result.js';
import { bytesEqual } from './bytes.js';
import { IV_SIZE, TAG_SIZE, type Keyring } from './keyring.js';

/**
 * The outer layer of every packet and stream frame:
 *
 *   version u8 | label length u8 | label | mode u8 | body
 *
 * mode 0: body is plaintext; mode 1: body is iv(12) | AES-256-GCM ciphertext | tag(16), with the
 * whole header (version..mode) as additional authenticated data, so a label cannot be swapped.
 * With a keyring every plaintext input is refused, and without one every encrypted input is.
 */
export const WIRE_VERSION = 1;
const MODE_PLAIN = 0;
const MODE_GCM = 1;

export type EnvelopeDrop = 'version' | 'label' | 'plaintext' | 'encrypted' | 'decrypt' | 'truncated';

export interface EnvelopeError {
  readonly reason: EnvelopeDrop;
  readonly detail: string;
}

function fail(reason: EnvelopeDrop, detail: string): Result<never, EnvelopeError> {
  return err({ reason, detail });
}

export class Envelope {
  private readonly header: Uint8Array;

  constructor(
    label: string,
    private readonly keyring: Keyring,
  ) {
    const l = Buffer.from(label, 'utf8');
    this.header = Uint8Array.from([WIRE_VERSION, l.length, ...l, 0]);
  }

  /** Bytes the envelope adds to a body of any size. */
  get overhead(): number {
    return this.header.length + (this.keyring.size > 0 ? IV_SIZE + TAG_SIZE : 0);
  }

  wrap(body: Uint8Array): Uint8Array {
    const encrypted = this.keyring.size > 0;
    const header = this.header.slice();
    header[header.length - 1] = encrypted ? MODE_GCM : MODE_PLAIN;
    const payload = encrypted ? this.keyring.encrypt(body, header) : body;
    const out = new Uint8Array(header.length + payload.length);
    out.set(header, 0);
    out.set(payload, header.length);
    return out;
  }

  unwrap(data: Uint8Array): Result<Uint8Array, EnvelopeError> {
    if (data.length < 3) return fail('truncated', `${data.length} bytes`);
    if (data[0] !== WIRE_VERSION) return fail('version', `wire version ${String(data[0])}, expected ${WIRE_VERSION}`);
    const labelLen = data[1] ?? 0;
    const modeAt = 2 + labelLen;
    if (data.length <= modeAt) return fail('truncated', `${data.length} bytes, label of ${labelLen}`);
    const ours = this.header.length - 3;
    if (labelLen !== ours || !bytesEqual(data.subarray(2, modeAt), this.header.subarray(2, modeAt))) {
      return fail('label', `label "${Buffer.from(data.subarray(2, modeAt)).toString('utf8')}"`);
    }
    const mode = data[modeAt];
    const body = data.subarray(modeAt + 1);
    if (mode === MODE_PLAIN) {
      return this.keyring.size > 0 ? fail('plaintext', 'plaintext refused: a keyring is configured') : ok(body);
    }
    if (mode !== MODE_GCM) return fail('version', `unknown mode ${String(mode)}`);
    if (this.keyring.size === 0) return fail('encrypted', 'encrypted input but no keyring configured');
    const plain = this.keyring.decrypt(body, data.subarray(0, modeAt + 1));
    return plain.ok ? plain : fail('decrypt', plain.error);
  }
}
