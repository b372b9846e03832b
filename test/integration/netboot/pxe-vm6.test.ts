// Real firmware over IPv6: a QEMU guest's iPXE option ROM (Debian's ipxe-qemu) on a leaf that has no
// DHCPv4 relay, only radvd (managed flag) and ISC dhcrelay -6, gets a bound DHCPv6 lease and its
// script URL from Anvil. (Booting the script over IPv6 is the QEMU IPv6 end-to-end test's.)
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listLeases6 } from '../../../services/netboot/dhcp6/leases.ts';
import { enrollNode } from './fixtures.ts';
import { canUseNetns } from './netns.ts';
import { HTTP_PORT, SERVER6, buildTopology, randomMac, type Topology } from './topology.ts';

describe('iPXE of a QEMU guest over DHCPv6 through dhcrelay -6', () => {
  let topo: Topology;

  beforeAll(async () => {
    const problem = await canUseNetns();
    if (problem) throw new Error(problem);
    topo = await buildTopology({ vmTap: true, ipv6: true });
    const radvdConf = path.join(topo.dir, 'radvd.conf');
    writeFileSync(radvdConf, 'interface tap0 {\n  AdvSendAdvert on;\n  AdvManagedFlag on;\n  AdvOtherConfigFlag on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 4;\n  prefix 2001:db8:3::/64 { AdvOnLink on; AdvAutonomous off; };\n};\n');
    topo.ns.spawn('leaf', ['radvd', '-n', '-C', radvdConf, '-p', path.join(topo.dir, 'radvd.pid'), '-m', 'stderr']);
    topo.ns.spawn('leaf', ['dhcrelay', '-6', '-d', '--no-pid', '-I', '-l', 'tap0', '-u', `${SERVER6}%l0`]);
  }, 60000);

  afterAll(async () => {
    await topo?.stop();
  }, 20000);

  it('binds the guest an address of the VM leaf and names its iPXE script', async () => {
    const mac = randomMac();
    await enrollNode(topo.db, { mac, state: 'deploying' });
    topo.ns.spawn('leaf', [
      'qemu-system-x86_64', '-machine', 'pc,accel=tcg', '-m', '256', '-display', 'none', '-monitor', 'none', '-no-reboot', '-boot', 'n',
      '-netdev', 'tap,id=n0,ifname=tap0,script=no,downscript=no', '-device', `virtio-net-pci,netdev=n0,mac=${mac}`,
    ]);
    const script = `http://[${SERVER6}]:${HTTP_PORT}/boot/${mac}.ipxe`.replace(/[.[\]]/g, '\\$&');
    const replied = new RegExp(`"mac":"${mac}","subnet":"vmleaf6","type":"REPLY","to":"2001:db8:ff::2","relayed":true,"bootFile":"${script}"`);
    for (let i = 0; i < 600 && !replied.test(topo.log()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(topo.log()).toMatch(new RegExp(`"mac":"${mac}","subnet":"vmleaf6","type":"ADVERTISE"`));
    expect(topo.log()).toMatch(replied);
    const leases = await listLeases6(topo.db.knex);
    // iPXE names itself by DUID-UUID (the SMBIOS UUID): Anvil knew it by its EUI-64 link-local address.
    expect(leases).toContainEqual(expect.objectContaining({ mac, subnet: 'vmleaf6', state: 'bound', ip: expect.stringMatching(/^2001:db8:3::1(0[0-9a-f]|10)$/) }));
    expect(leases.find((l) => l.mac === mac)!.duid).toMatch(/^0004/);
  }, 90000);
});
