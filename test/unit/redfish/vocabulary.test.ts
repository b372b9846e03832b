// Pieces of Redfish vocabulary the drivers decode: vendor error bodies, reset types (even
// concatenated ones), boot override bodies for BMCs that lack Continuous or call the CD UsbCd.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { redfishErrorText } from '../../../drivers/redfish/client.ts';
import { bootOverrideBody } from '../../../drivers/redfish/management.ts';
import { powerStateOf, splitResetTypes } from '../../../drivers/redfish/system.ts';
import { mockup } from '../../integration/redfish/mockups.ts';

const sample = (file: string) => JSON.parse(readFileSync(mockup(file), 'utf8'));

describe('Redfish vocabulary', () => {
  it('turns vendor error bodies into readable text with their message ids', () => {
    const ami = redfishErrorText(sample('sushy-json-samples/transfer_proto_required_error.json'));
    expect(ami.text).toMatch(/^The action \/redfish\/v1\/Managers\/Self\/VirtualMedia\/CD1\/Actions\/VirtualMedia.InsertMedia requires the parameter TransferProtocolType to be present in the request body. \(Supply the action/);
    expect(ami.ids).toContain('Base.1.5.ActionParameterMissing');
    const dell = redfishErrorText(sample('dell-idrac/r640-14g-idrac9/_non-resource/error_pending_job.json'));
    expect(dell.text).toMatch(/pending attribute changes or a configuration job is in progress/);
    expect(dell.ids).toContain('IDRAC.2.8.LC068');
    expect(redfishErrorText({ error: { code: 'X', message: 'plain' } })).toEqual({ text: 'plain', ids: ['X'] });
    expect(redfishErrorText('<html>')).toEqual({ text: '', ids: [] });
  });

  it('splits concatenated reset types and drops unknown ones', () => {
    expect(splitResetTypes(['On', 'GracefulShutdownGracefulRestart', 'ForceOff', 'Bogus'])).toEqual(['On', 'GracefulShutdown', 'GracefulRestart', 'ForceOff']);
  });

  it('maps power states, transitional ones to the state not yet left', () => {
    expect(powerStateOf({ PowerState: 'On' })).toBe('power on');
    expect(powerStateOf({ PowerState: 'PoweringOn' })).toBe('power off');
    expect(powerStateOf({ PowerState: 'PoweringOff' })).toBe('power on');
    expect(() => powerStateOf({ PowerState: 'Paused' })).toThrow(/unknown power state "Paused"/);
  });

  it('builds boot override bodies that fit what the BMC allows', () => {
    const lenovo = { Boot: { 'BootSourceOverrideTarget@Redfish.AllowableValues': ['Pxe', 'Hdd', 'Cd'], 'BootSourceOverrideEnabled@Redfish.AllowableValues': ['Once', 'Disabled'] } };
    expect(bootOverrideBody(lenovo, 'pxe', true)).toEqual({ Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' } });
    const supermicro = { Boot: { 'BootSourceOverrideTarget@Redfish.AllowableValues': ['Pxe', 'Hdd', 'UsbCd'] } };
    expect(bootOverrideBody(supermicro, 'cdrom', true)).toEqual({ Boot: { BootSourceOverrideTarget: 'UsbCd', BootSourceOverrideEnabled: 'Continuous' } });
    expect(() => bootOverrideBody(supermicro, 'bios', false)).toThrow(/Boot device bios is not supported by the BMC \(it offers Pxe, Hdd, UsbCd\)/);
    // No allowable list at all: the standard target is sent.
    expect(bootOverrideBody({}, 'disk', false)).toEqual({ Boot: { BootSourceOverrideTarget: 'Hdd', BootSourceOverrideEnabled: 'Once' } });
  });
});
