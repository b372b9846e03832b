import { describe, expect, it } from 'vitest';
import { kernelArguments, ramdiskParamsOf } from '../../../simulators/rack/netboot-client.ts';
import { ipxeScript } from '../../../services/netboot/bootconfig.ts';

describe('what a simulated machine reads from its iPXE script', () => {
  it('takes the agent arguments from the kernel line the netboot role renders', () => {
    const script = ipxeScript({
      kind: 'ramdisk',
      mac: '52:54:00:00:01:10',
      purpose: 'inspect',
      nodeUuid: '1be26c0b-03f2-4d2e-ae87-c02d7f33c123',
      kernelUrl: 'http://10.0.0.1:8080/deploy.kernel',
      ramdiskUrl: 'http://10.0.0.1:8080/deploy.initramfs',
      cmdline: 'ipa-api-url=http://10.0.0.1:6385 ipa-node-uuid=1be26c0b-03f2-4d2e-ae87-c02d7f33c123 ipa-inspection-callback-url=http://10.0.0.1:6385/v1/continue_inspection BOOTIF=01-52-54-00-00-01-10 console=ttyS0',
    });
    expect(ramdiskParamsOf(script)).toEqual({
      apiUrl: 'http://10.0.0.1:6385',
      nodeUuid: '1be26c0b-03f2-4d2e-ae87-c02d7f33c123',
      inspectionCallbackUrl: 'http://10.0.0.1:6385/v1/continue_inspection',
    });
    expect(kernelArguments(script).get('console')).toBe('ttyS0');
  });

  it('finds nothing in a script without a kernel line', () => {
    expect(kernelArguments('#!ipxe\nexit\n').size).toBe(0);
    expect(ramdiskParamsOf('#!ipxe\n')).toEqual({ apiUrl: undefined, nodeUuid: undefined, inspectionCallbackUrl: undefined });
  });
});
