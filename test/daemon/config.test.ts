import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadDaemonConfig } from '../../src/daemon/config.js';

const dir = mkdtempSync(join(tmpdir(), 'amfd-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const KEY = Buffer.alloc(32, 7).toString('base64');
/** A token, and a keyring: by default amfd is a node of a cluster, which it refuses to run in clear. */
const TOKEN = { AMFD_API_TOKEN: 'secret', AMFD_SWIM_KEYRING: KEY };

describe('daemon configuration', () => {
  it('defaults: loopback addresses, bootstrap_expect 3, max_voters 5, lease 1200 ms stop', () => {
    const r = loadDaemonConfig({ argv: [], env: TOKEN, cwd: dir });
    assert.ok(r.ok, r.ok ? '' : r.error.join('\n'));
    const c = r.value;
    assert.equal(c.bootstrapExpect, 3);
    assert.equal(c.maxVoters, 5);
    assert.equal(c.leaseMs, 1200);
    assert.equal(c.leasePolicy, 'stop');
    assert.equal(c.api.bind, '127.0.0.1:7950');
    assert.equal(c.componentSocket, join(c.dataDir, 'amf.sock'));
    assert.equal(c.file, undefined);
  });

  it('file < env < flags, lists from env and repeated --join', () => {
    const file = join(dir, 'a.json');
    writeFileSync(file, JSON.stringify({ node_name: 'fromfile', data_dir: 'data', bootstrap_expect: 1, lease: { policy: 'freeze' }, api: { token: 'x' } }));
    const r = loadDaemonConfig({
      argv: ['--config', file, '--node-name', 'fromflag', '--join', '127.0.0.1:1', '--join=127.0.0.1:2,127.0.0.1:3'],
      env: { AMFD_NODE_NAME: 'fromenv', AMFD_MAX_VOTERS: '7', AMFD_SWIM_BIND: '127.0.0.1:9000', AMFD_SWIM_KEYRING: KEY },
      cwd: dir,
    });
    assert.ok(r.ok, r.ok ? '' : r.error.join('\n'));
    assert.equal(r.value.nodeName, 'fromflag');
    assert.equal(r.value.maxVoters, 7);
    assert.equal(r.value.swim.bind, '127.0.0.1:9000');
    assert.equal(r.value.bootstrapExpect, 1);
    assert.equal(r.value.leasePolicy, 'freeze');
    assert.equal(r.value.dataDir, join(dir, 'data'));
    assert.deepEqual(r.value.join, ['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3']);
    assert.equal(r.value.file, file);
    const e = loadDaemonConfig({ argv: [], env: { ...TOKEN, AMFD_JOIN: '127.0.0.1:5, 127.0.0.1:6' }, cwd: dir });
    assert.ok(e.ok);
    assert.deepEqual(e.value.join, ['127.0.0.1:5', '127.0.0.1:6']);
  });

  it('strict validation lists every problem, each with its key', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ swim: { bind: 'nope', profile: 'fast' }, lease: { policy: 'panic' }, unknown_key: 1, api: { token: 't' } }));
    const r = loadDaemonConfig({ argv: ['--config', file, '--bogus'], env: { AMFD_BOOTSTRAP_EXPECT: '-2' }, cwd: dir });
    assert.ok(!r.ok);
    const text = r.error.join('\n');
    for (const key of ['swim.bind', 'swim.profile', 'lease.policy', 'unknown_key', 'bootstrap_expect', '--bogus']) assert.match(text, new RegExp(key.replace('.', '\\.')), `${key} is named in:\n${text}`);
  });

  it('cross-field checks: wildcard binds, voters below bootstrap, missing token, TLS halves, missing groups.conf', () => {
    const r = loadDaemonConfig({
      argv: ['--raft-bind', '0.0.0.0:7000', '--max-voters', '2', '--groups-conf', 'missing.conf'],
      env: { AMFD_API_TLS_CERT: 'cert.pem', AMFD_SWIM_KEYRING: KEY },
      cwd: dir,
    });
    assert.ok(!r.ok);
    const text = r.error.join('\n');
    assert.match(text, /raft\.bind: '0\.0\.0\.0:7000' is a wildcard; set raft\.advertise/);
    assert.match(text, /max_voters: 2 is below bootstrap_expect 3/);
    assert.match(text, /api\.tls_cert and api\.tls_key/);
    assert.match(text, /groups_conf: .*missing\.conf does not exist/);
    const advertised = loadDaemonConfig({ argv: ['--raft-bind', '0.0.0.0:7000', '--raft-advertise', '10.0.0.5:7000'], env: TOKEN, cwd: dir });
    assert.ok(advertised.ok, advertised.ok ? '' : advertised.error.join('\n'));
    assert.deepEqual(advertised.value.advertise, { raft: '10.0.0.5:7000' });
    const noToken = loadDaemonConfig({ argv: [], env: { AMFD_SWIM_KEYRING: KEY }, cwd: dir });
    assert.ok(!noToken.ok);
    assert.match(noToken.error.join('\n'), /api\.token/);
  });

  it('reads the token from api.token_file and checks keyring keys', () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'from-file\n');
    const r = loadDaemonConfig({ argv: ['--api-token-file', tokenFile], env: { AMFD_SWIM_KEYRING: KEY }, cwd: dir });
    assert.ok(r.ok, r.ok ? '' : r.error.join('\n'));
    assert.equal(r.value.api.token, 'from-file');
    assert.equal(r.value.swim.keys.length, 1);
    const bad = loadDaemonConfig({ argv: [], env: { ...TOKEN, AMFD_SWIM_KEYRING: 'c2hvcnQ=' }, cwd: dir });
    assert.ok(!bad.ok);
    assert.match(bad.error.join('\n'), /swim\.keyring\[0\]: must be 32 bytes/);
  });

  it('secure by default: more than one node without a keyring is refused, unless --insecure-cluster-channels says so; a single node needs none', () => {
    const clear = loadDaemonConfig({ argv: [], env: { AMFD_API_TOKEN: 't' }, cwd: dir });
    assert.ok(!clear.ok);
    assert.match(clear.error.join('\n'), /swim\.keyring: a cluster of more than one node .*openssl rand -base64 32.*--insecure-cluster-channels/);
    const joining = loadDaemonConfig({ argv: ['--bootstrap-expect', '1', '--join', '127.0.0.1:9'], env: { AMFD_API_TOKEN: 't' }, cwd: dir });
    assert.ok(!joining.ok, 'a join list is a cluster too');
    const allowed = loadDaemonConfig({ argv: ['--insecure-cluster-channels'], env: { AMFD_API_TOKEN: 't' }, cwd: dir });
    assert.ok(allowed.ok, allowed.ok ? '' : allowed.error.join('\n'));
    assert.equal(allowed.value.insecureClusterChannels, true);
    const single = loadDaemonConfig({ argv: ['--bootstrap-expect', '1'], env: { AMFD_API_TOKEN: 't' }, cwd: dir });
    assert.ok(single.ok && !single.value.insecureClusterChannels, 'one node alone talks to nobody');
    const sealed = loadDaemonConfig({ argv: ['--insecure-cluster-channels'], env: TOKEN, cwd: dir });
    assert.ok(sealed.ok && !sealed.value.insecureClusterChannels, 'with a keyring the flag changes nothing');
  });

  it('command_dirs: absolute directories, from the file or AMFD_COMMAND_DIRS', () => {
    const r = loadDaemonConfig({ argv: [], env: { ...TOKEN, AMFD_COMMAND_DIRS: '/opt/amf/bin, /usr/lib/ocf' }, cwd: dir });
    assert.ok(r.ok, r.ok ? '' : r.error.join('\n'));
    assert.deepEqual(r.value.commandDirs, ['/opt/amf/bin', '/usr/lib/ocf']);
    const bad = loadDaemonConfig({ argv: [], env: { ...TOKEN, AMFD_COMMAND_DIRS: 'bin' }, cwd: dir });
    assert.ok(!bad.ok);
    assert.match(bad.error.join('\n'), /command_dirs: 'bin' must be an absolute directory/);
  });

  it('swim.keyring_file: one base64 key per line (comments and blank lines skipped); an empty or missing file is an error', () => {
    const file = join(dir, 'ring');
    writeFileSync(file, `# cluster keys\n${KEY}\n\n${Buffer.alloc(32, 8).toString('base64')}\n`);
    const r = loadDaemonConfig({ argv: ['--swim-keyring-file', file], env: { AMFD_API_TOKEN: 't' }, cwd: dir });
    assert.ok(r.ok, r.ok ? '' : r.error.join('\n'));
    assert.equal(r.value.swim.keys.length, 2);
    writeFileSync(file, '# nothing\n');
    const empty = loadDaemonConfig({ argv: ['--swim-keyring-file', file], env: { AMFD_API_TOKEN: 't' }, cwd: dir });
    assert.ok(!empty.ok);
    assert.match(empty.error.join('\n'), /swim\.keyring_file: .* holds no key/);
    const missing = loadDaemonConfig({ argv: ['--swim-keyring-file', join(dir, 'nope')], env: { AMFD_API_TOKEN: 't' }, cwd: dir });
    assert.ok(!missing.ok);
    assert.match(missing.error.join('\n'), /swim\.keyring_file: cannot read/);
  });
});
