/**
 * The daemon's local bootstrap configuration (convict): where this node lives, which addresses it
 * binds, how it joins, its lease policy and its API credentials. Sources, later ones win: schema
 * defaults, the JSON file (`--config`, `AMFD_CONFIG`, default `conf/amfd.json` when it exists), env
 * `AMFD_*`, command-line flags. Validation is strict and lists every problem with its key.
 * The replicated groups.conf is NOT configured here beyond the path used for the first bootstrap.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import convict from 'convict';
import { DEFAULT_API_BIND } from '../api/http.js';
import { CLUSTER_DEFAULTS, LEASE_POLICIES, type LeasePolicy } from '../cluster/options.js';
import { electionTimeoutMs } from '../raft/config.js';
import { DEFAULT_SWIM_PROFILE, SWIM_PROFILES, type SwimProfile } from '../swim/index.js';
import { err, ok, type Result } from '../util/result.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function hostPort(name: string): (v: unknown) => void {
  return (v: unknown) => {
    if (typeof v !== 'string' || !/^[^\s:]+:\d{1,5}$/.test(v)) throw new Error(`${name} must be "host:port", got ${JSON.stringify(v)}`);
    const port = Number(v.slice(v.lastIndexOf(':') + 1));
    if (port > 65535) throw new Error(`${name}: port ${port} is out of range`);
  };
}

function stringList(v: unknown): void {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new Error('must be a list of strings');
}

type LogLevel = (typeof LOG_LEVELS)[number];

/** The values convict produces from the schema below. */
interface Props {
  node_name: string;
  data_dir: string;
  log_level: LogLevel;
  swim: { bind: string; profile: SwimProfile; keyring: string[]; keyring_file: string; advertise: string };
  raft: { bind: string; advertise: string };
  rpc: { bind: string; advertise: string };
  join: string[];
  bootstrap_expect: number;
  max_voters: number;
  lease: { timeout_ms: number; policy: LeasePolicy };
  fencing_command: string;
  groups_conf: string;
  component_socket: string;
  api: { bind: string; token: string; token_file: string; tls_cert: string; tls_key: string; tls_ca: string };
  shutdown_timeout_ms: number;
  insecure_cluster_channels: boolean;
  command_dirs: string[];
}

const schema: convict.Schema<Props> = {
  node_name: { doc: 'This node\'s name (as groups.conf `node` blocks name it).', format: String, default: hostname(), env: 'AMFD_NODE_NAME', arg: 'node-name' },
  data_dir: { doc: 'State directory (Raft log, snapshots).', format: String, default: '/var/lib/amfd', env: 'AMFD_DATA_DIR', arg: 'data-dir' },
  log_level: { doc: 'pino log level.', format: [...LOG_LEVELS], default: 'info' as (typeof LOG_LEVELS)[number], env: 'AMFD_LOG_LEVEL', arg: 'log-level' },
  swim: {
    bind: { doc: 'SWIM gossip (UDP + TCP push-pull) address.', format: hostPort('swim.bind'), default: '127.0.0.1:7946', env: 'AMFD_SWIM_BIND', arg: 'swim-bind' },
    profile: { doc: 'SWIM timing profile.', format: [...SWIM_PROFILES], default: DEFAULT_SWIM_PROFILE, env: 'AMFD_SWIM_PROFILE', arg: 'swim-profile' },
    keyring: { doc: 'AES-256-GCM cluster keys (base64, 32 bytes), the first one encrypts: they seal gossip, lease datagrams, forwarded writes and Raft (docs/cluster.md, Security).', format: stringList, default: [] as string[], env: 'AMFD_SWIM_KEYRING', sensitive: true },
    keyring_file: { doc: 'File holding the keyring, one base64 key per line, the first one encrypts (used when swim.keyring is empty).', format: String, default: '', env: 'AMFD_SWIM_KEYRING_FILE', arg: 'swim-keyring-file' },
    advertise: { doc: 'SWIM address announced to peers when it differs from bind (required with a wildcard bind).', format: String, default: '', env: 'AMFD_SWIM_ADVERTISE', arg: 'swim-advertise' },
  },
  raft: {
    bind: { doc: 'Raft TCP address.', format: hostPort('raft.bind'), default: '127.0.0.1:7947', env: 'AMFD_RAFT_BIND', arg: 'raft-bind' },
    advertise: { doc: 'Raft address announced to peers when it differs from bind.', format: String, default: '', env: 'AMFD_RAFT_ADVERTISE', arg: 'raft-advertise' },
  },
  rpc: {
    bind: { doc: 'Cluster RPC address (lease UDP + forwarded writes TCP).', format: hostPort('rpc.bind'), default: '127.0.0.1:7948', env: 'AMFD_RPC_BIND', arg: 'rpc-bind' },
    advertise: { doc: 'RPC address announced to peers when it differs from bind.', format: String, default: '', env: 'AMFD_RPC_ADVERTISE', arg: 'rpc-advertise' },
  },
  join: { doc: 'SWIM addresses to join through (comma separated in env).', format: stringList, default: [] as string[], env: 'AMFD_JOIN' },
  bootstrap_expect: { doc: 'Servers that bootstrap Raft together (1: single-node dev mode).', format: 'nat', default: CLUSTER_DEFAULTS.bootstrapExpect, env: 'AMFD_BOOTSTRAP_EXPECT', arg: 'bootstrap-expect' },
  max_voters: { doc: 'Raft voters at most; later nodes join as non-voters.', format: 'nat', default: CLUSTER_DEFAULTS.maxVoters, env: 'AMFD_MAX_VOTERS', arg: 'max-voters' },
  lease: {
    timeout_ms: { doc: 'Lease: a node that cannot renew it with the leader for this long stops (or freezes) its actives.', format: 'nat', default: CLUSTER_DEFAULTS.leaseMs, env: 'AMFD_LEASE_TIMEOUT_MS', arg: 'lease-timeout-ms' },
    policy: { doc: 'What a node does when its lease runs out.', format: [...LEASE_POLICIES], default: CLUSTER_DEFAULTS.leasePolicy, env: 'AMFD_LEASE_POLICY', arg: 'lease-policy' },
  },
  fencing_command: { doc: 'Shell command that powers off node $AMFD_FENCE_NODE; exit 0 means it is off. Empty: lease only.', format: String, default: '', env: 'AMFD_FENCING_COMMAND' },
  groups_conf: { doc: 'groups.conf committed when the cluster has no configuration yet (first bootstrap).', format: String, default: '', env: 'AMFD_GROUPS_CONF', arg: 'groups-conf' },
  component_socket: { doc: 'Component API Unix socket (default <data_dir>/amf.sock).', format: String, default: '', env: 'AMFD_COMPONENT_SOCKET', arg: 'component-socket' },
  api: {
    bind: { doc: 'HTTP API address (loopback by default).', format: hostPort('api.bind'), default: DEFAULT_API_BIND, env: 'AMFD_API_BIND', arg: 'api-bind' },
    token: { doc: 'Bearer token of the API.', format: String, default: '', env: 'AMFD_API_TOKEN', sensitive: true },
    token_file: { doc: 'File holding the bearer token (used when api.token is empty).', format: String, default: '', env: 'AMFD_API_TOKEN_FILE', arg: 'api-token-file' },
    tls_cert: { doc: 'PEM certificate file: serve HTTPS.', format: String, default: '', env: 'AMFD_API_TLS_CERT' },
    tls_key: { doc: 'PEM key file of tls_cert.', format: String, default: '', env: 'AMFD_API_TLS_KEY' },
    tls_ca: { doc: 'Optional PEM CA bundle.', format: String, default: '', env: 'AMFD_API_TLS_CA' },
  },
  shutdown_timeout_ms: { doc: 'Hard deadline of a graceful shutdown; then the process exits 1.', format: 'nat', default: 10_000, env: 'AMFD_SHUTDOWN_TIMEOUT_MS' },
  insecure_cluster_channels: {
    doc: 'Run a cluster of more than one node without swim.keyring: gossip, leases, forwarded writes and Raft unauthenticated and in clear (anyone who reaches the ports can join, evict, or speak Raft). Refused without it; warned about on every start with it.',
    format: Boolean,
    default: false,
    env: 'AMFD_INSECURE_CLUSTER_CHANNELS',
    arg: 'insecure-cluster-channels',
  },
  command_dirs: {
    doc: 'Allow-list of directories the node agent runs component commands from (CLC-CLI scripts, commands, OCF agents, virsh): a program whose real path is elsewhere is refused. Empty: any absolute path, so the API token can run any command as amfd on every node.',
    format: stringList,
    default: [] as string[],
    env: 'AMFD_COMMAND_DIRS',
  },
};

/** Resolved and checked: every path absolute, the token read. */
export interface DaemonConfig {
  readonly nodeName: string;
  readonly dataDir: string;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly swim: { readonly bind: string; readonly profile: SwimProfile; readonly keys: readonly Uint8Array[] };
  readonly raftBind: string;
  readonly rpcBind: string;
  /** Addresses announced to peers, where they differ from the bound ones. */
  readonly advertise: { readonly swim?: string; readonly raft?: string; readonly rpc?: string };
  readonly join: readonly string[];
  readonly bootstrapExpect: number;
  readonly maxVoters: number;
  readonly leaseMs: number;
  readonly leasePolicy: LeasePolicy;
  readonly fencingCommand: string;
  readonly groupsConf: string;
  readonly componentSocket: string;
  readonly api: { readonly bind: string; readonly token: string; readonly tls?: { readonly key: string; readonly cert: string; readonly ca?: string } };
  readonly shutdownTimeoutMs: number;
  /** More than one node (bootstrap_expect > 1 or a join list) without a keyring, explicitly allowed. */
  readonly insecureClusterChannels: boolean;
  /** Absolute directories component commands must resolve into (empty: anywhere). */
  readonly commandDirs: readonly string[];
  /** Where each value came from is not kept; this is the file that was read, if any. */
  readonly file: string | undefined;
}

export interface ConfigSources {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Default config file when neither --config nor AMFD_CONFIG is given (read only if it exists). */
  readonly defaultFile?: string;
}

export const DEFAULT_CONFIG_FILE = 'conf/amfd.json';

/** `--config <file>` / `--config=<file>`, then AMFD_CONFIG. */
function configFile(s: ConfigSources): { path: string; required: boolean } | undefined {
  for (let i = 0; i < s.argv.length; i++) {
    const a = s.argv[i]!;
    if (a === '--config' || a === '-c') return { path: s.argv[i + 1] ?? '', required: true };
    if (a.startsWith('--config=')) return { path: a.slice('--config='.length), required: true };
  }
  if (s.env['AMFD_CONFIG']) return { path: s.env['AMFD_CONFIG'], required: true };
  return s.defaultFile === undefined ? undefined : { path: s.defaultFile, required: false };
}

/** Comma-separated lists in env (convict would take the string as one element). */
function envLists(env: ConfigSources['env']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  for (const k of ['AMFD_JOIN', 'AMFD_SWIM_KEYRING', 'AMFD_COMMAND_DIRS']) {
    const v = out[k];
    if (v !== undefined && !v.startsWith('[')) out[k] = JSON.stringify(v.split(',').map((s) => s.trim()).filter((s) => s !== ''));
  }
  return out;
}

/** `--join a,b` and repeated `--join a --join b`: convict has no list flags. */
function joinFlags(argv: readonly string[]): string[] | undefined {
  const out: string[] = [];
  let seen = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = a === '--join' ? argv[++i] : a.startsWith('--join=') ? a.slice(7) : undefined;
    if (v === undefined) continue;
    seen = true;
    out.push(...v.split(',').map((s) => s.trim()).filter((s) => s !== ''));
  }
  return seen ? out : undefined;
}

const KNOWN_FLAGS = new Set(['config', 'c', 'join', 'help', 'h', ...collectArgs(schema)]);

function collectArgs(s: object): string[] {
  const out: string[] = [];
  for (const v of Object.values(s)) {
    if (typeof v !== 'object' || v === null) continue;
    if ('doc' in v) {
      if ('arg' in v && typeof v.arg === 'string') out.push(v.arg);
    } else out.push(...collectArgs(v));
  }
  return out;
}

function unknownFlags(argv: readonly string[]): string[] {
  const errors: string[] = [];
  for (const a of argv) {
    const m = /^--?([^=]+)/.exec(a);
    if (m && !KNOWN_FLAGS.has(m[1]!)) errors.push(`unknown flag ${a} (amfd --help lists them)`);
  }
  return errors;
}

/** One line per option, for `amfd --help`. */
export function describeOptions(): string {
  const lines: string[] = [];
  const walk = (s: object, prefix: string): void => {
    for (const [k, v] of Object.entries(s)) {
      if (typeof v !== 'object' || v === null) continue;
      if (!('doc' in v)) {
        walk(v, `${prefix}${k}.`);
        continue;
      }
      const e = v as { doc: string; env?: string; arg?: string; default: unknown; sensitive?: boolean };
      const flag = e.arg ? `--${e.arg}` : k === 'join' ? '--join' : '';
      lines.push(`  ${`${prefix}${k}`.padEnd(22)} ${flag.padEnd(22)} ${(e.env ?? '').padEnd(26)} ${e.doc}${e.sensitive ? '' : ` [${JSON.stringify(e.default)}]`}`);
    }
  };
  walk(schema, '');
  return lines.join('\n');
}

function readPem(path: string, key: string, errors: string[]): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    errors.push(`${key}: cannot read ${path}: ${(e as Error).message}`);
    return undefined;
  }
}

/** Load and check the configuration; every problem is listed, each naming its key. */
export function loadDaemonConfig(s: ConfigSources): Result<DaemonConfig, string[]> {
  const errors: string[] = unknownFlags(s.argv.filter((a) => a.startsWith('-')));
  const flags = s.argv.filter((a, i) => !(a === '--join' || a.startsWith('--join=') || s.argv[i - 1] === '--join'));
  const cfg = convict<Props>(schema, { env: envLists(s.env), args: [...flags] });
  const file = configFile(s);
  let readFrom: string | undefined;
  if (file) {
    const path = isAbsolute(file.path) ? file.path : resolve(s.cwd, file.path);
    if (file.path === '') errors.push('--config needs a file name');
    else if (!file.required && !existsSync(path)) readFrom = undefined;
    else {
      try {
        cfg.loadFile(path);
        readFrom = path;
      } catch (e) {
        errors.push(`${path}: ${(e as Error).message}`);
      }
    }
  }
  const joined = joinFlags(s.argv);
  if (joined) cfg.set('join', joined);
  try {
    cfg.validate({ allowed: 'strict' });
  } catch (e) {
    errors.push(...(e as Error).message.split('\n').filter((l) => l.trim() !== ''));
  }
  if (errors.length > 0) return err(errors);
  return check(cfg.getProperties(), s, readFrom);
}


function isWildcard(addr: string): boolean {
  const host = addr.slice(0, addr.lastIndexOf(':'));
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/** Cross-field checks and resolution (paths, token, keys, TLS files). */
function check(p: Props, s: ConfigSources, file: string | undefined): Result<DaemonConfig, string[]> {
  const errors: string[] = [];
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(p.node_name)) errors.push(`node_name: '${p.node_name}' must be letters, digits, '_', '.', '-'`);
  if (p.bootstrap_expect < 1) errors.push('bootstrap_expect: must be at least 1');
  if (p.max_voters < p.bootstrap_expect) errors.push(`max_voters: ${p.max_voters} is below bootstrap_expect ${p.bootstrap_expect}`);
  const election = electionTimeoutMs();
  if (p.lease.timeout_ms < election) errors.push(`lease.timeout_ms: ${p.lease.timeout_ms} is too short (at least ${election}, above a Raft election)`);
  // Peers need a reachable address: a wildcard bind must say which one to advertise.
  for (const [key, v, adv] of [['swim', p.swim.bind, p.swim.advertise], ['raft', p.raft.bind, p.raft.advertise], ['rpc', p.rpc.bind, p.rpc.advertise]] as const) {
    if (adv !== '') {
      try {
        hostPort(`${key}.advertise`)(adv);
        if (isWildcard(adv)) errors.push(`${key}.advertise: '${adv}' is a wildcard; give the address peers reach this node at`);
      } catch (e) {
        errors.push((e as Error).message);
      }
    } else if (isWildcard(v)) errors.push(`${key}.bind: '${v}' is a wildcard; set ${key}.advertise to the address peers reach this node at`);
  }
  const ports = [p.swim.bind, p.raft.bind, p.rpc.bind, p.api.bind];
  if (new Set(ports).size !== ports.length && !ports.some((a) => a.endsWith(':0'))) errors.push(`swim.bind, raft.bind, rpc.bind and api.bind must differ (got ${ports.join(', ')})`);
  for (const j of p.join) {
    try {
      hostPort('join')(j);
    } catch (e) {
      errors.push(`join: ${(e as Error).message}`);
    }
  }
  const abs = (v: string): string => (isAbsolute(v) ? v : resolve(s.cwd, v));
  let ring = p.swim.keyring;
  let ringKey = 'swim.keyring';
  if (ring.length === 0 && p.swim.keyring_file !== '') {
    ringKey = 'swim.keyring_file';
    try {
      ring = readFileSync(abs(p.swim.keyring_file), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
      if (ring.length === 0) errors.push(`swim.keyring_file: ${p.swim.keyring_file} holds no key`);
    } catch (e) {
      errors.push(`swim.keyring_file: cannot read ${p.swim.keyring_file}: ${(e as Error).message}`);
    }
  }
  const keys: Uint8Array[] = [];
  ring.forEach((k, i) => {
    const b = Buffer.from(k, 'base64');
    if (b.length !== 32) errors.push(`${ringKey}[${i}]: must be 32 bytes in base64 (got ${b.length} bytes)`);
    else keys.push(new Uint8Array(b));
  });
  // Secure by default: a node that is to talk to others does it sealed, or is told in so many words not to.
  const multiNode = p.bootstrap_expect > 1 || p.join.length > 0;
  if (multiNode && ring.length === 0 && p.swim.keyring_file === '' && !p.insecure_cluster_channels) {
    errors.push(
      'swim.keyring: a cluster of more than one node (bootstrap_expect > 1 or join) needs a keyring: the same base64 key on every node (generate one with `openssl rand -base64 32`), or --insecure-cluster-channels (insecure_cluster_channels: true) to run it in clear',
    );
  }
  for (const d of p.command_dirs) if (!isAbsolute(d)) errors.push(`command_dirs: '${d}' must be an absolute directory`);
  let token = p.api.token;
  if (token === '' && p.api.token_file !== '') {
    try {
      token = readFileSync(abs(p.api.token_file), 'utf8').trim();
    } catch (e) {
      errors.push(`api.token_file: cannot read ${p.api.token_file}: ${(e as Error).message}`);
    }
  }
  if (token === '' && errors.length === 0) errors.push('api.token: set a bearer token (api.token, AMFD_API_TOKEN or api.token_file); the API refuses to run open');
  let tls: DaemonConfig['api']['tls'];
  if ((p.api.tls_cert === '') !== (p.api.tls_key === '')) errors.push('api.tls_cert and api.tls_key: give both or neither');
  else if (p.api.tls_cert !== '') {
    const cert = readPem(abs(p.api.tls_cert), 'api.tls_cert', errors);
    const key = readPem(abs(p.api.tls_key), 'api.tls_key', errors);
    const ca = p.api.tls_ca === '' ? undefined : readPem(abs(p.api.tls_ca), 'api.tls_ca', errors);
    if (cert !== undefined && key !== undefined) tls = { cert, key, ...(ca === undefined ? {} : { ca }) };
  }
  const groupsConf = p.groups_conf === '' ? '' : abs(p.groups_conf);
  if (groupsConf !== '' && !existsSync(groupsConf)) errors.push(`groups_conf: ${groupsConf} does not exist`);
  if (errors.length > 0) return err(errors);
  const dataDir = abs(p.data_dir);
  return ok({
    nodeName: p.node_name,
    dataDir,
    logLevel: p.log_level,
    swim: { bind: p.swim.bind, profile: p.swim.profile, keys },
    raftBind: p.raft.bind,
    rpcBind: p.rpc.bind,
    advertise: {
      ...(p.swim.advertise === '' ? {} : { swim: p.swim.advertise }),
      ...(p.raft.advertise === '' ? {} : { raft: p.raft.advertise }),
      ...(p.rpc.advertise === '' ? {} : { rpc: p.rpc.advertise }),
    },
    join: p.join,
    bootstrapExpect: p.bootstrap_expect,
    maxVoters: p.max_voters,
    leaseMs: p.lease.timeout_ms,
    leasePolicy: p.lease.policy,
    fencingCommand: p.fencing_command,
    groupsConf,
    componentSocket: p.component_socket === '' ? join(dataDir, 'amf.sock') : abs(p.component_socket),
    api: { bind: p.api.bind, token, ...(tls ? { tls } : {}) },
    shutdownTimeoutMs: p.shutdown_timeout_ms,
    insecureClusterChannels: multiNode && keys.length === 0,
    commandDirs: p.command_dirs,
    file,
  });
}
