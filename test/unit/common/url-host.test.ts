// The one place URL hosts get their IPv6 brackets, and how a peer's address family is told.
import { describe, expect, it } from 'vitest';
import { addressUrl, bareHost, hostFamily, origin, urlHost } from '../../../common/url-host.ts';
import { apiPublicUrl, defaultConfig } from '../../../common/config.ts';
import { agentCmdline } from '../../../services/netboot/targets.ts';

describe('urlHost and origin', () => {
  it('brackets IPv6 literals only', () => {
    expect(urlHost('2001:db8::1')).toBe('[2001:db8::1]');
    expect(urlHost('::')).toBe('[::]');
    expect(urlHost('192.0.2.1')).toBe('192.0.2.1');
    expect(urlHost('bmc.example')).toBe('bmc.example');
    // Already bracketed: left alone, never doubled.
    expect(urlHost('[2001:db8::1]')).toBe('[2001:db8::1]');
    expect(origin('http', '2001:db8::1', 6385)).toBe('http://[2001:db8::1]:6385');
    expect(origin('https', '10.0.0.1', 443)).toBe('https://10.0.0.1:443');
  });

  it('bareHost undoes what URL.hostname keeps', () => {
    expect(bareHost(new URL('http://[2001:db8::1]:80').hostname)).toBe('2001:db8::1');
    expect(bareHost('10.0.0.1')).toBe('10.0.0.1');
  });

  it('addressUrl reads BMC addresses with and without a scheme', () => {
    expect(addressUrl('2001:db8::5', 'https').origin).toBe('https://[2001:db8::5]');
    expect(addressUrl('[2001:db8::5]:8443', 'https').origin).toBe('https://[2001:db8::5]:8443');
    expect(addressUrl('http://[2001:db8::5]:8000/x', 'https').origin).toBe('http://[2001:db8::5]:8000');
    expect(addressUrl('bmc.example:8443', 'https').origin).toBe('https://bmc.example:8443');
  });

  it('the API URL and the agent command line carry bracketed literals', () => {
    const config = defaultConfig();
    config.api.host = '2001:db8::1';
    expect(apiPublicUrl(config)).toBe('http://[2001:db8::1]:6385');
    expect(agentCmdline({ apiUrl: apiPublicUrl(config) }, '52:54:00:00:00:01', 'inspect', 'n1', '')).toBe(
      'ipa-api-url=http://[2001:db8::1]:6385 ipa-node-uuid=n1 BOOTIF=52:54:00:00:00:01 ipa-inspection-callback-url=http://[2001:db8::1]:6385/v1/continue_inspection ipa-collect-lldp=1',
    );
  });
});

describe('hostFamily', () => {
  it('literals are their own family, bracketed or not; names with an A record are IPv4', async () => {
    expect(await hostFamily('2001:db8::5')).toBe(6);
    expect(await hostFamily('[::1]')).toBe(6);
    expect(await hostFamily('fe80::1%eth0')).toBe(6);
    expect(await hostFamily('192.0.2.1')).toBe(4);
    expect(await hostFamily('localhost')).toBe(4);
    // A name that does not resolve: IPv4, the default (reaching it fails with its own message).
    expect(await hostFamily('no-such-host.invalid')).toBe(4);
  });
});
