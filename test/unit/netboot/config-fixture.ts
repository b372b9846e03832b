// A netboot configuration for tests: one directly attached subnet and two relayed leaf subnets.
import { defaultConfig, type AnvilConfig } from '../../../common/config.ts';
import { parseNetbootConfig, type NetbootConfig } from '../../../services/netboot/config.ts';

export function anvilConfig(netboot: Record<string, unknown> = {}): AnvilConfig {
  return {
    ...defaultConfig('/tmp/anvil-netboot-test'),
    netboot: {
      serverAddress: '10.0.0.1',
      apiUrl: 'http://10.0.0.1:6385',
      http: { listen: '0.0.0.0:8080' },
      subnets: [
        { name: 'prov', cidr: '10.0.0.0/24', direct: true, range: { start: '10.0.0.100', end: '10.0.0.110' }, router: '10.0.0.1', dns: ['10.0.0.53'], leaseTime: 600 },
        { name: 'leaf1', cidr: '10.1.1.0/24', range: { start: '10.1.1.10', end: '10.1.1.12' }, router: '10.1.1.1', leaseTime: 1200 },
        { name: 'leaf2', cidr: '10.1.2.0/24', range: { start: '10.1.2.10', end: '10.1.2.20' }, router: '10.1.2.1' },
      ],
      ...netboot,
    },
  };
}

export function netbootConfig(netboot: Record<string, unknown> = {}): NetbootConfig {
  return parseNetbootConfig(anvilConfig(netboot));
}
