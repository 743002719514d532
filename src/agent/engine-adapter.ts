import type { AmfCommand, AmfInput } from '../amf/commands.js';
import type { Logger } from '../runtime/ports/observability.js';
import type { NodeAgent } from './agent.js';

/**
 * Connects a NodeAgent to the AMF engine: executes the engine's commands addressed to this node
 * and delivers every answer and fault as the engine's input. Timer and fence commands are the
 * driver's business and are left alone (execute returns false).
 */
export class EngineAdapter {
  private readonly log: Logger;

  constructor(
    private readonly agent: NodeAgent,
    private readonly nodeName: string,
    private readonly deliver: (input: AmfInput) => void,
    logger: Logger,
  ) {
    this.log = logger.child({ module: 'agent.engine' });
    agent.onFault((fault) => deliver(fault));
  }

  /** Execute one command; true when it was for this node's agent. Answers arrive via deliver. */
  execute(cmd: AmfCommand): boolean {
    if (cmd.kind === 'timer-set' || cmd.kind === 'timer-cancel' || cmd.kind === 'node-fence') return false;
    if (cmd.node !== this.nodeName) return false;
    const { su, comp } = cmd;
    switch (cmd.kind) {
      case 'comp-instantiate':
        void this.agent.instantiate(su, comp, cmd.adopt).then((r) =>
          this.deliver(r.ok ? { kind: 'comp-instantiated', su, comp } : { kind: 'comp-instantiate-failed', su, comp, reason: r.error.reason, ...(r.error.noRetry ? { noRetry: true } : {}) }),
        );
        return true;
      case 'comp-terminate':
      case 'comp-cleanup':
        void (cmd.kind === 'comp-terminate' ? this.agent.terminate(su, comp) : this.agent.cleanup(su, comp, cmd.reason)).then((r) =>
          this.deliver(r.ok ? { kind: 'comp-terminated', su, comp } : { kind: 'comp-terminate-failed', su, comp, reason: r.error }),
        );
        return true;
      case 'comp-migrate':
        void this.agent.migrate(su, comp, cmd.to).then((r) =>
          this.deliver(r.ok ? { kind: 'comp-migrated', su, comp, uuid: r.value.uuid } : { kind: 'comp-migrate-failed', su, comp, reason: r.error.reason, ...(r.error.lost ? { lost: true } : {}) }),
        );
        return true;
      case 'csi-set': {
        const { si, csi, haState } = cmd;
        void this.agent.csiSet(su, comp, { si, csi, csiType: cmd.csiType, haState, attributes: cmd.attributes }).then((r) =>
          this.deliver(r.ok ? { kind: 'csi-set-done', su, comp, si, csi, haState } : { kind: 'csi-set-failed', su, comp, si, csi, haState, reason: r.error }),
        );
        return true;
      }
      case 'csi-remove': {
        const { si, csi } = cmd;
        void this.agent.csiRemove(su, comp, si, csi).then((r) => {
          if (!r.ok) this.log.warn({ su, comp, csi, reason: r.error }, 'CSI remove not acknowledged by the component');
          this.deliver({ kind: 'csi-remove-done', su, comp, si, csi });
        });
        return true;
      }
      case 'healthcheck-start': {
        const r = this.agent.startHealthcheck(su, comp, cmd.key);
        if (!r.ok) this.log.warn({ su, comp, key: cmd.key, reason: r.error }, 'healthcheck not started');
        return true;
      }
      case 'healthcheck-stop':
        this.agent.stopHealthcheck(su, comp, cmd.key);
        return true;
    }
  }
}
