// Trait-based networking (1.111): the filter-expression parser (good and bad expressions), the
// configuration file's validation, and the planner's choices of ports, port groups and bonds.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../common/config.ts';
import { networkConfig } from '../../../drivers/switch/config.ts';
import { FilterExpression, type FilterNetwork, type FilterPortlike } from '../../../common/trait-networking/filter-expression.ts';
import { planNetworks, traitsForInstance, type PlanNetwork, type PlanPort, type PlanPortgroup } from '../../../common/trait-networking/planner.ts';
import { BUILT_IN_DEFAULT_TRAIT, parseTraitsConfig } from '../../../common/trait-networking/traits-config.ts';

const portlike = (over: Partial<FilterPortlike> = {}): FilterPortlike => ({ kind: 'port', address: '52:54:00:00:00:01', category: null, physical_network: null, vendor: null, ...over });
const network = (over: Partial<FilterNetwork> = {}): FilterNetwork => ({ name: 'tenant-a', tags: [], ...over });
const matches = (expr: string, port: FilterPortlike = portlike(), net: FilterNetwork = network()) => FilterExpression.parse(expr).matches(port, net);

describe('filter expressions', () => {
  it('compares variables with each comparator', () => {
    const p = portlike({ vendor: 'purple', category: 'green-1', physical_network: 'physnet2' });
    expect(matches("port.vendor == 'purple'", p)).toBe(true);
    expect(matches("port.vendor != 'purple'", p)).toBe(false);
    expect(matches("port.category =~ 'green'", p)).toBe(true);
    expect(matches("port.category =~ 'blue'", p)).toBe(false);
    expect(matches("port.physical_network >= 'physnet2'", p)).toBe(true);
    expect(matches("port.physical_network > 'physnet2'", p)).toBe(false);
    expect(matches("port.physical_network < 'physnet3'", p)).toBe(true);
    expect(matches("port.physical_network <= 'physnet1'", p)).toBe(false);
    expect(matches("port.address =~ '52'", p)).toBe(true);
    expect(matches("network.name == 'tenant-a'", p)).toBe(true);
  });

  it('never matches an unset variable, not even with !=; a port group has no vendor', () => {
    expect(matches("port.category != 'public'")).toBe(false);
    expect(matches("port.vendor != 'x'", portlike({ kind: 'portgroup' }))).toBe(false);
    expect(matches("network.tags != 'x'")).toBe(false);
  });

  it('treats network.tags as a set', () => {
    const n = network({ tags: ['storage', 'fast-1'] });
    expect(matches("network.tags == 'storage'", portlike(), n)).toBe(true);
    expect(matches("network.tags != 'storage'", portlike(), n)).toBe(false);
    expect(matches("network.tags != 'slow'", portlike(), n)).toBe(true);
    expect(matches("network.tags =~ 'fast'", portlike(), n)).toBe(true);
  });

  it('has functions, && binding tighter than ||, and parentheses', () => {
    const group = portlike({ kind: 'portgroup' });
    expect(matches('port.is_port')).toBe(true);
    expect(matches('port.is_portgroup')).toBe(false);
    expect(matches('port.is_portgroup', group)).toBe(true);
    expect(matches("port.is_portgroup || port.vendor == 'purple'", portlike({ vendor: 'purple' }))).toBe(true);
    // a || b && c is a || (b && c): true here, where (a || b) && c would be false
    expect(matches("port.is_port || port.is_portgroup && network.name == 'other'")).toBe(true);
    expect(matches("(port.is_port || port.is_portgroup) && network.name == 'other'")).toBe(false);
    expect(matches("  ( ( port.is_port ) )&&network.name=='tenant-a'")).toBe(true);
  });

  it('refuses bad expressions, saying what and where', () => {
    const bad: [string, string][] = [
      ['', 'the expression is empty'],
      ["port.colour == 'x'", "unknown variable 'port.colour' at offset 0"],
      ['port.vendor', "expected a comparator (== != >= <= =~ > <) after 'port.vendor', found the end of the expression"],
      ["port.vendor == purple", "unexpected character 'p' at offset 15"],
      ["port.vendor == 'pur", 'unterminated string literal at offset 15'],
      ["port.vendor == 'a b'", "string literal 'a b' at offset 15 may hold only letters, digits"],
      ["port.vendor == \"x\"", `unexpected character '"' at offset 15`],
      ["(port.is_port", "expected ')' to close '(' at offset 0, found the end of the expression"],
      ['port.is_port)', "expected '&&', '||' or the end, found ')' at offset 12"],
      ["port.is_port && ", "expected a variable, a function or '(', found the end of the expression"],
      ["port.is_port & port.is_port", "unexpected character '&' at offset 13"],
      ["network.tags > 'a'", 'network.tags is a set of tags: it takes ==, != or =~'],
      ["port.vendor == == 'x'", "expected a string literal in single quotes after '==', found '==' at offset 15"],
    ];
    for (const [expr, message] of bad) expect(() => FilterExpression.parse(expr), expr).toThrow(message);
  });
});

describe('trait-based networking file', () => {
  it('reads traits with their actions, order and counts', () => {
    const traits = parseTraitsConfig(`
CUSTOM_BOND:
  order: 2
  actions:
    - action: group_and_attach_ports
      filter: port.vendor == 'purple'
      min_count: 2
      max_count: 3
    - action: attach_port
      filter: port.is_port
CUSTOM_PG:
  actions:
    - { action: attach_portgroup, filter: "port.category == 'fast'" }
`, 'tbn.yaml');
    expect(traits.map((t) => [t.name, t.order, t.actions.map((a) => [a.action, a.filter.source, a.minCount, a.maxCount])])).toEqual([
      ['CUSTOM_BOND', 2, [['group_and_attach_ports', "port.vendor == 'purple'", 2, 3], ['attach_port', 'port.is_port', null, null]]],
      ['CUSTOM_PG', 1, [['attach_portgroup', "port.category == 'fast'", null, null]]],
    ]);
  });

  it('lists every problem, naming the trait and the action', () => {
    let message = '';
    try {
      parseTraitsConfig(`
BOND: { actions: [ { action: attach_port, filter: port.is_port } ] }
CUSTOM_A:
  order: first
  colour: red
  actions:
    - action: group_and_attach_ports
      filter: port.is_port
      min_count: 1
    - action: bond_ports
      filter: port.is_port
    - action: attach_port
      filter: "port.vendor = 'x'"
      max_count: 0
    - action: attach_port
    - action: attach_port
      filter: port.is_port
      min_count: 3
      max_count: 2
      extra: 1
CUSTOM_B: { actions: [] }
CUSTOM_C: 7
`, '/etc/anvil/tbn.yaml');
    } catch (err) { message = (err as Error).message; }
    expect(message.split('\n')).toEqual([
      'Trait-based networking file /etc/anvil/tbn.yaml is invalid:',
      "  trait BOND: a trait's name must start with CUSTOM_",
      "  trait CUSTOM_A: unknown key 'colour' (keys: order, actions)",
      '  trait CUSTOM_A: order must be an integer, got "first"',
      '  trait CUSTOM_A action 1 (group_and_attach_ports): a port group needs at least 2 ports, so min_count must be 2 or more, got 1',
      '  trait CUSTOM_A action 2 (bond_ports): unknown action "bond_ports" (actions: attach_port, attach_portgroup, group_and_attach_ports)',
      `  trait CUSTOM_A action 3 (attach_port): filter "port.vendor = 'x'": unexpected character '=' at offset 12`,
      '  trait CUSTOM_A action 3 (attach_port): max_count must be a positive integer, got 0',
      "  trait CUSTOM_A action 4 (attach_port): 'filter' is missing",
      "  trait CUSTOM_A action 5 (attach_port): unknown key 'extra' (keys: action, filter, min_count, max_count)",
      '  trait CUSTOM_A action 5 (attach_port): max_count 2 is below min_count 3',
      "  trait CUSTOM_B: 'actions' must be a non-empty list",
      "  trait CUSTOM_C: must be a mapping with 'actions'",
    ]);
    expect(() => parseTraitsConfig('[1, 2]', 'x.yaml')).toThrow('Trait-based networking file x.yaml must be a mapping of trait names to traits');
    expect(() => parseTraitsConfig('a: [', 'x.yaml')).toThrow('Trait-based networking file x.yaml is not YAML');
  });
});

describe('network.traitBasedNetworking', () => {
  it('reads the file with the network section, and refuses a bad or missing one naming it', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-tbn-unit-'));
    try {
      const file = path.join(dir, 'tbn.yaml');
      const config = (doc: string | undefined) => {
        if (doc !== undefined) writeFileSync(file, doc);
        const c = defaultConfig(dir);
        c.network = { traitBasedNetworking: file };
        return c;
      };
      expect(networkConfig(config('CUSTOM_A: { actions: [ { action: attach_port, filter: port.is_port } ] }')).traits.map((t) => t.name)).toEqual(['CUSTOM_A']);
      expect(() => networkConfig(config('CUSTOM_A: { actions: [ { action: attach_port, filter: "port.is_port &&" } ] }'))).toThrow(`Trait-based networking file ${file} is invalid:\n  trait CUSTOM_A action 1 (attach_port): filter "port.is_port &&": expected a variable, a function or '(', found the end of the expression`);
      rmSync(file);
      expect(() => networkConfig(config(undefined))).toThrow(`network.traitBasedNetworking: cannot read ${file}: ENOENT`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('trait-based networking planner', () => {
  const port = (id: number, over: Partial<PlanPort> = {}): PlanPort => ({ kind: 'port', id, uuid: `p${id}`, address: `52:54:00:00:00:0${id}`, category: null, physical_network: null, vendor: null, portgroupUuid: null, availableForDynamicPortgroup: false, ...over });
  const group = (id: number, over: Partial<PlanPortgroup> = {}): PlanPortgroup => ({ kind: 'portgroup', id, uuid: `g${id}`, address: null, category: null, physical_network: null, vendor: null, ...over });
  const net = (name: string, tags: string[] = []): PlanNetwork => ({ uuid: `n-${name}`, name, tags });
  const traits = parseTraitsConfig(`
CUSTOM_STORAGE_BOND:
  order: 1
  actions:
    - { action: group_and_attach_ports, filter: "network.tags == 'storage'", min_count: 2, max_count: 2 }
    - { action: attach_port, filter: "network.tags == 'storage' && port.vendor == 'mellanox'" }
CUSTOM_FAST_GROUP:
  order: 2
  actions:
    - { action: attach_portgroup, filter: "port.category == 'fast'" }
CUSTOM_PAIR:
  order: 3
  actions:
    - { action: attach_port, filter: "port.vendor == 'intel'", min_count: 2 }
`, 'tbn.yaml');

  it('takes only the traits the instance names, by order, with the default last', () => {
    expect(traitsForInstance(traits, ['CUSTOM_PAIR', 'CUSTOM_STORAGE_BOND', 'CUSTOM_OTHER']).map((t) => t.name)).toEqual(['CUSTOM_STORAGE_BOND', 'CUSTOM_PAIR', 'CUSTOM_DEFAULT_TBN_TRAIT']);
    expect(traitsForInstance(traits, ['CUSTOM_OTHER'])).toEqual([]);
    const ownDefault = parseTraitsConfig("CUSTOM_DEFAULT_TBN_TRAIT: { actions: [ { action: attach_portgroup, filter: port.is_portgroup } ] }", 'd.yaml');
    expect(traitsForInstance([...traits, ...ownDefault], ['CUSTOM_PAIR']).at(-1)).toBe(ownDefault[0]);
    expect(traitsForInstance(traits, ['CUSTOM_PAIR']).at(-1)).toBe(BUILT_IN_DEFAULT_TRAIT);
  });

  it('bonds available ports of one physical network, newest first, up to max_count', () => {
    const ports = [
      port(1, { availableForDynamicPortgroup: true, physical_network: 'a' }),
      port(2, { availableForDynamicPortgroup: true, physical_network: 'b' }),
      port(3, { availableForDynamicPortgroup: true, physical_network: 'b' }),
      port(4, { availableForDynamicPortgroup: false, physical_network: 'b' }),
      port(5, { availableForDynamicPortgroup: true, physical_network: 'b' }),
      port(6, { availableForDynamicPortgroup: true, physical_network: 'b', portgroupUuid: 'g9' }),
    ];
    const plan = planNetworks(traitsForInstance(traits, ['CUSTOM_STORAGE_BOND']), ports, [], [net('store', ['storage']), net('store2', ['storage']), net('web')]);
    expect(plan).toEqual({
      attachments: [
        { network: 'n-store', trait: 'CUSTOM_STORAGE_BOND', action: 'group_and_attach_ports', ports: ['p5', 'p3'], physicalNetwork: 'b' },
        // p2 and p1 are on different physical networks: no second bond, and no mellanox port: the default trait
        { network: 'n-store2', trait: 'CUSTOM_DEFAULT_TBN_TRAIT', action: 'attach_port', port: 'p4' },
        { network: 'n-web', trait: 'CUSTOM_DEFAULT_TBN_TRAIT', action: 'attach_port', port: 'p2' },
      ],
      unplaced: [],
    });
  });

  it('falls through actions and traits in order, honours min_count, and reports what could not be placed', () => {
    const ports = [port(1, { vendor: 'intel' }), port(2, { vendor: 'intel' }), port(3, { vendor: 'mellanox' })];
    const groups = [group(7, { category: 'fast' }), group(8, { category: 'slow' })];
    const chosen = traitsForInstance(traits, ['CUSTOM_STORAGE_BOND', 'CUSTOM_FAST_GROUP', 'CUSTOM_PAIR']);
    const plan = planNetworks(chosen, ports, groups, [net('store', ['storage']), net('a'), net('b'), net('c'), net('d'), net('e')]);
    expect(plan.attachments).toEqual([
      { network: 'n-store', trait: 'CUSTOM_STORAGE_BOND', action: 'attach_port', port: 'p3' },
      { network: 'n-a', trait: 'CUSTOM_FAST_GROUP', action: 'attach_portgroup', portgroup: 'g7' },
      { network: 'n-b', trait: 'CUSTOM_PAIR', action: 'attach_port', port: 'p2' },
      // one intel port is left: CUSTOM_PAIR's min_count 2 is not met, the default takes it
      { network: 'n-c', trait: 'CUSTOM_DEFAULT_TBN_TRAIT', action: 'attach_port', port: 'p1' },
    ]);
    expect(plan.unplaced.map((u) => u.network)).toEqual(['n-d', 'n-e']);
    expect(plan.unplaced[0].reason).toBe([
      `CUSTOM_STORAGE_BOND group_and_attach_ports: no free port available for a dynamic port group matches "network.tags == 'storage'"`,
      `CUSTOM_STORAGE_BOND attach_port: no free port matches "network.tags == 'storage' && port.vendor == 'mellanox'"`,
      `CUSTOM_FAST_GROUP attach_portgroup: no free port group matches "port.category == 'fast'"`,
      `CUSTOM_PAIR attach_port: no free port matches "port.vendor == 'intel'"`,
      `CUSTOM_DEFAULT_TBN_TRAIT attach_port: no free port matches "port.is_port || port.is_portgroup"`,
    ].join('; '));
  });

  it('says how many matched when min_count is not met', () => {
    const plan = planNetworks(traitsForInstance(traits, ['CUSTOM_PAIR']).slice(0, 1), [port(1, { vendor: 'intel' })], [], [net('a')]);
    expect(plan.unplaced).toEqual([{ network: 'n-a', reason: `CUSTOM_PAIR attach_port: 1 free port(s) match "port.vendor == 'intel'", min_count is 2` }]);
    const bond = planNetworks(traitsForInstance(traits, ['CUSTOM_STORAGE_BOND']).slice(0, 1), [port(1, { availableForDynamicPortgroup: true, physical_network: 'a' }), port(2, { availableForDynamicPortgroup: true, physical_network: 'b' })], [], [net('s', ['storage'])]);
    expect(bond.unplaced[0].reason).toContain('fewer than min_count 2 free ports available for a dynamic port group on one physical network');
  });
});
