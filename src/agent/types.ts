/** Types the node agent's parts share: its settings, CSI assignments, instantiation failures. */
import type { HaState } from '../model/vocabulary.js';

export interface AgentSettings {
  /** The component API socket path, handed to SA-aware components in AMF_COMPONENT_SOCKET. */
  readonly socketPath: string;
  /** The environment every script and component inherits (PATH included). */
  readonly baseEnv: Readonly<Record<string, string>>;
  readonly ocfRoot: string;
  /** Grace between SIGTERM and SIGKILL when a script times out. */
  readonly killGraceMs: number;
  /** Passive monitoring poll period for pidfile processes. */
  readonly pollMs: number;
  /** How long a component has to answer a CSI set / remove callback. */
  readonly callbackTimeoutMs: number;
  /** Directories searched for the openais `openais_cleanup_<name>` pidfile. */
  readonly openaisPidDirs: readonly string[];
  /** Component API connections open at once; one more is answered `busy` and closed. */
  readonly apiMaxConnections: number;
  /** A component API connection not registered this long after it opened (or unregistered) is closed. */
  readonly apiRegisterTimeoutMs: number;
}

export interface CsiAssignment {
  readonly si: string;
  readonly csi: string;
  readonly csiType: string;
  readonly haState: HaState;
  readonly attributes: readonly { readonly name: string; readonly value: string }[];
}

export interface InstantiateFailure {
  readonly reason: string;
  /** The instantiate script exited with the "do not retry" code (200, as in OpenSAF). */
  readonly noRetry: boolean;
}

/** OpenSAF's INSTANTIATE exit code meaning "do not retry". */
export const NO_RETRY_EXIT = 200;
