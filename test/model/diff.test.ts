import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffModels, formatChange, loadConfig, type AmfModel } from '../../src/model/index.js';

function load(text: string): AmfModel {
  const r = loadConfig(text, 't.conf');
  assert.ok(r.ok, r.ok ? '' : r.error.join('\n'));
  return r.value;
}

const base = `
node {
	name = n1
}
node {
	name = n3
}
group {
	name = g
	model = 2n
	unit {
		name = SU_1
		node = n1
		component {
			name = c
			command = /bin/app
			env {
				A = 1
			}
			csi_type_name {
				name = t
			}
		}
	}
	unit {
		name = SU_2
		node = n1
		component {
			name = c
			command = /bin/app
			csi_type_name {
				name = t
			}
		}
	}
	serviceinstance {
		name = SI_1
		csi_descriptor {
			csi_name = x
			type_name = t
		}
	}
}
healthcheck {
	key = k
	period = 100
}
`;

const lines = (a: AmfModel, b: AmfModel): string[] => diffModels(a, b).map(formatChange);

test('identical models have no changes', () => {
  assert.deepEqual(diffModels(load(base), load(base)), []);
});

test('an SU moved to another node reads as in the issue', () => {
  const moved = base.replace('name = SU_2\n\t\tnode = n1', 'name = SU_2\n\t\tnode = n3');
  assert.deepEqual(lines(load(base), load(moved)), ['SU_2 modify: node changed :: "n1" -> "n3"']);
  const [change] = diffModels(load(base), load(moved));
  assert.deepEqual(change, {
    op: 'modify',
    entity: { type: 'unit', path: ['g', 'SU_2'], label: 'SU_2' },
    attribute: 'node',
    old: 'n1',
    new: 'n3',
  });
});

test('added and removed entities, nested attributes, and defaults that follow the group', () => {
  const changed = base
    .replace('\t\t\t\tA = 1\n', '\t\t\t\tA = 2\n\t\t\t\tB = x y\n')
    .replace('\tperiod = 100\n', '\tperiod = 200\n')
    .replace(
      '\tserviceinstance {\n\t\tname = SI_1',
      '\tserviceinstance {\n\t\tname = SI_2\n\t}\n\tserviceinstance {\n\t\tname = SI_1\n\t\trank = 3',
    )
    .replace('\t\tcsi_descriptor {\n\t\t\tcsi_name = x\n\t\t\ttype_name = t\n\t\t}\n', '')
    .replace('node {\n\tname = n3\n}\n', 'node {\n\tname = n3\n\tadmin_state = locked\n}\n');
  assert.deepEqual(lines(load(base), load(changed)), [
    'node n3 modify: admin_state changed :: "unlocked" -> "locked"',
    // Both maxima default to the number of SIs, so adding one changes them.
    'g modify: maximum-active-instances changed :: 1 -> 2',
    'g modify: maximum-standby-instances changed :: 1 -> 2',
    'SU_1/c modify: env.A changed :: 1 -> 2',
    'SU_1/c modify: env.B changed :: (unset) -> "x y"',
    'SI_1 modify: rank changed :: 0 -> 3',
    'SI_1/x remove',
    'SI_2 add',
    'healthcheck k modify: period changed :: 100 -> 200',
  ]);
});

test('component changes are named by unit/component and lists compare as a whole', () => {
  const changed = base.replace('\t\t\tcommand = /bin/app\n\t\t\tenv', '\t\t\tcommand = /bin/app --verbose\n\t\t\tenv').replace(
    '\t\t\tcsi_type_name {\n\t\t\t\tname = t\n\t\t\t}\n\t\t}\n\t}\n\tunit {\n\t\tname = SU_2',
    '\t\t\tcsi_type_name {\n\t\t\t\tname = t\n\t\t\t}\n\t\t\tcsi_type_name {\n\t\t\t\tname = u\n\t\t\t}\n\t\t}\n\t}\n\tunit {\n\t\tname = SU_2',
  );
  assert.deepEqual(lines(load(base), load(changed)), [
    'SU_1/c modify: command changed :: "/bin/app" -> "/bin/app --verbose"',
    'SU_1/c modify: csi_type_name changed :: "t" -> "t u"',
  ]);
});

test('vm settings, a guest heartbeat and server groups diff by their keys and members', () => {
  const vm = (settings: string, extra = ''): string =>
    base.replace('\t\t\tcommand = /bin/app\n\t\t\tenv', `\t\t\tvm {\n\t\t\t\tdomain_xml = /etc/vm.xml\n${settings}\t\t\t}\n${extra}\t\t\tenv`);
  const group = (policy: string, members: string[]): string =>
    `server_group {\n\tname = peers\n\tpolicy = ${policy}\n${members.map((m) => `\tmember {\n\t\tunit = ${m}\n\t\tcomponent = c\n\t\tchannel = /run/${m}.sock\n\t}\n`).join('')}}\n`;
  const before = vm('') + group('anti-affinity', ['SU_1']);
  const after = vm('\t\t\t\turi = test:///default\n', '\t\t\tguest_heartbeat {\n\t\t\t}\n') + group('affinity', ['SU_1', 'SU_2']);
  assert.deepEqual(lines(load(before), load(after)), [
    'SU_1/c modify: vm.uri changed :: "qemu:///system" -> "test:///default"',
    'SU_1/c modify: guest_heartbeat changed :: (unset) -> "present"',
    'server group peers modify: policy changed :: "anti-affinity" -> "affinity"',
    'server group peers modify: member changed :: "SU_1/c=/run/SU_1.sock" -> "SU_1/c=/run/SU_1.sock SU_2/c=/run/SU_2.sock"',
  ]);
  assert.deepEqual(lines(load(before), load(vm(''))), ['server group peers remove']);
});
