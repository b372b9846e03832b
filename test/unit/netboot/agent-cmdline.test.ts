// The agent ramdisk's kernel command line: how long the inspection boot listens for LLDP (netboot.lldpTimeout).
import { describe, expect, it } from 'vitest';
import { agentCmdline } from '../../../services/netboot/targets.ts';
import { netbootConfig } from './config-fixture.ts';

const MAC = '52:54:00:00:03:01';
const words = (netboot: Record<string, unknown>, purpose: 'inspect' | 'deploy') => agentCmdline(netbootConfig(netboot), MAC, purpose, 'node-1', '').split(' ');

describe('agentCmdline and netboot.lldpTimeout', () => {
  it('unset: the inspection boot listens for LLDP for the agent\'s default time', () => {
    expect(words({}, 'inspect')).toContain('ipa-collect-lldp=1');
    expect(words({}, 'inspect').some((w) => w.startsWith('ipa-lldp-timeout='))).toBe(false);
  });

  it('a number of seconds is passed on; 0 leaves LLDP out of the inspection boot', () => {
    expect(words({ lldpTimeout: 3 }, 'inspect')).toEqual(expect.arrayContaining(['ipa-collect-lldp=1', 'ipa-lldp-timeout=3']));
    const off = words({ lldpTimeout: 0 }, 'inspect');
    expect(off).toContain('ipa-inspection-callback-url=http://10.0.0.1:6385/v1/continue_inspection');
    expect(off.filter((w) => w.startsWith('ipa-collect-lldp') || w.startsWith('ipa-lldp-timeout'))).toEqual([]);
  });

  it('netboot.lldpLinkWait is passed on as anvil.lldp_link_wait, and refused below 1 s', () => {
    expect(words({ lldpLinkWait: 30, lldpTimeout: 35 }, 'inspect')).toEqual(expect.arrayContaining(['ipa-collect-lldp=1', 'ipa-lldp-timeout=35', 'anvil.lldp_link_wait=30']));
    expect(words({}, 'inspect').some((w) => w.startsWith('anvil.lldp_link_wait='))).toBe(false);
    expect(words({ lldpLinkWait: 30, lldpTimeout: 0 }, 'inspect').filter((w) => w.includes('lldp'))).toEqual([]);
    expect(() => netbootConfig({ lldpLinkWait: 0 })).toThrow('netboot.lldpLinkWait must be an integer from 1 to 600, got 0');
  });

  it('only inspection listens for LLDP', () => {
    expect(words({ lldpTimeout: 3, lldpLinkWait: 3 }, 'deploy').filter((w) => w.includes('lldp'))).toEqual([]);
  });

  it('refuses a timeout that is not a whole number of seconds from 0 to 600', () => {
    expect(() => netbootConfig({ lldpTimeout: -1 })).toThrow('netboot.lldpTimeout must be an integer from 0 to 600, got -1');
    expect(() => netbootConfig({ lldpTimeout: '5' })).toThrow('netboot.lldpTimeout must be an integer from 0 to 600, got "5"');
  });
});
