// When a NIC stops listening for LLDP before the whole ipa-lldp-timeout: lldpListening's decision.
import { describe, expect, it } from 'vitest';
import { lldpListening } from '../../../deploy-agent/lldp-capture.ts';

const WAIT = 2000;

describe('lldpListening', () => {
  it('a NIC whose link is up listens the link wait from when its capture opened, then is quiet', () => {
    // The link was up long before the capture opened (the ramdisk brought it up for DHCP).
    expect(lldpListening(1000 + WAIT - 1, 1000, 0, WAIT)).toBe('listen');
    expect(lldpListening(1000 + WAIT, 1000, 0, WAIT)).toBe('quiet');
  });

  it('a link that comes up while listening gets the whole link wait from then', () => {
    expect(lldpListening(1000 + WAIT, 1000, 2500, WAIT)).toBe('listen');
    expect(lldpListening(2500 + WAIT - 1, 1000, 2500, WAIT)).toBe('listen');
    expect(lldpListening(2500 + WAIT, 1000, 2500, WAIT)).toBe('quiet');
  });

  it('a NIC with no link a link wait after its capture opened has no neighbour to hear', () => {
    expect(lldpListening(1000 + WAIT - 1, 1000, undefined, WAIT)).toBe('listen');
    expect(lldpListening(1000 + WAIT, 1000, undefined, WAIT)).toBe('no link');
  });
});
