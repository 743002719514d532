import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { Random } from '../runtime/ports/random.js';
import { assert } from '../util/assert.js';
import { err, ok, type Result } from '../util/result.js';
import { bytesEqual } from './bytes.js';

export const KEY_SIZE = 32;
export const IV_SIZE = 12;
export const TAG_SIZE = 16;

/**
 * AES-256-GCM keys for gossip. Index 0 is the primary, the only key that encrypts; every key is
 * tried to decrypt, so a cluster rotates by install (everywhere) → use (everywhere) → remove.
 * IVs come from the injected Random so the simulator replays byte for byte (random 96-bit IVs;
 * a collision needs ~2^48 packets under one key).
 */
export class Keyring {
  private keys: Uint8Array[] = [];

  constructor(private readonly random: Random) {}

  /** A keyring holding `keys`, the first one primary; fails on a key of the wrong size. */
  static create(random: Random, keys: readonly Uint8Array[]): Result<Keyring, string> {
    const ring = new Keyring(random);
    for (const [i, k] of keys.entries()) {
      const r = ring.install(k);
      if (!r.ok) return err(`key ${i}: ${r.error}`);
    }
    return ok(ring);
  }

  /** Number of installed keys; 0 means gossip is plaintext. */
  get size(): number {
    return this.keys.length;
  }

  /** Copies of the keys, primary first. */
  list(): Uint8Array[] {
    return this.keys.map((k) => k.slice());
  }

  /** Add a key for decryption (the first key installed becomes primary). Installing twice is a no-op. */
  install(key: Uint8Array): Result<void, string> {
    if (key.length !== KEY_SIZE) return err(`keyring: key must be ${KEY_SIZE} bytes, got ${key.length}`);
    if (!this.keys.some((k) => bytesEqual(k, key))) this.keys.push(key.slice());
    return ok(undefined);
  }

  /** Make an installed key the primary. */
  use(key: Uint8Array): Result<void, string> {
    const i = this.keys.findIndex((k) => bytesEqual(k, key));
    if (i < 0) return err('keyring: cannot use a key that is not installed');
    const [k] = this.keys.splice(i, 1);
    if (k) this.keys.unshift(k);
    return ok(undefined);
  }

  /** Remove a non-primary key. */
  remove(key: Uint8Array): Result<void, string> {
    const i = this.keys.findIndex((k) => bytesEqual(k, key));
    if (i < 0) return err('keyring: key not installed');
    if (i === 0) return err('keyring: cannot remove the primary key (use another one first)');
    this.keys.splice(i, 1);
    return ok(undefined);
  }

  /** iv | ciphertext | tag, authenticated together with `aad`. Requires a key. */
  encrypt(plain: Uint8Array, aad: Uint8Array): Uint8Array {
    const key = this.keys[0];
    assert(key, 'keyring: encrypt with no key');
    const iv = this.random.bytes(IV_SIZE);
    const c = createCipheriv('aes-256-gcm', key, iv);
    c.setAAD(aad);
    const body = Buffer.concat([c.update(plain), c.final()]);
    return Buffer.concat([iv, body, c.getAuthTag()]);
  }

  /** Try every key, primary first; an error when none authenticates. */
  decrypt(sealed: Uint8Array, aad: Uint8Array): Result<Uint8Array, string> {
    if (sealed.length < IV_SIZE + TAG_SIZE) return err('encrypted payload too short');
    const iv = sealed.subarray(0, IV_SIZE);
    const body = sealed.subarray(IV_SIZE, sealed.length - TAG_SIZE);
    const tag = sealed.subarray(sealed.length - TAG_SIZE);
    for (const key of this.keys) {
      try {
        const d = createDecipheriv('aes-256-gcm', key, iv);
        d.setAAD(aad);
        d.setAuthTag(tag);
        return ok(Buffer.concat([d.update(body), d.final()]));
      } catch {
        // Wrong key or tampered data: try the next key.
      }
    }
    return err('no key decrypts the payload');
  }
}
