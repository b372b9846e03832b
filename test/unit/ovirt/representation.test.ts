// The Engine simulator's two representations, and the driver's reading of the Engine's faults.
import { describe, expect, it } from 'vitest';
import { faultText } from '../../../drivers/ovirt/client.ts';
import { BadBody, formatOf, parseBody, pick, toJson, toXml } from '../../../simulators/ovirt-engine/representation.ts';

const vm = {
  href: '/ovirt-engine/api/vms/123', id: '123', name: 'myvm',
  link: [{ href: '/ovirt-engine/api/vms/123/nics', rel: 'nics' }],
  os: { boot: { devices: { device: ['network', 'hd'] } } },
  stop_time: new Date(Date.UTC(2017, 3, 11, 8, 14, 40, 123)),
  host: undefined, memory: 1073741824, stateless: false,
};

describe('the Engine representations', () => {
  it('renders XML with id, href and rel as attributes, lists as repeated elements, dates in ISO 8601', () => {
    const xml = toXml('vm', vm);
    expect(xml).toContain('<vm href="/ovirt-engine/api/vms/123" id="123">');
    expect(xml).toContain('<link href="/ovirt-engine/api/vms/123/nics" rel="nics"/>');
    expect(xml).toMatch(/<devices>\s*<device>network<\/device>\s*<device>hd<\/device>\s*<\/devices>/);
    expect(xml).toContain('<stop_time>2017-04-11T08:14:40.123Z</stop_time>');
    expect(xml).toContain('<stateless>false</stateless>');
    expect(xml).not.toContain('<host');
  });

  it('renders JSON with the same names, dates in milliseconds, unset attributes left out', () => {
    const json = JSON.parse(toJson(vm));
    expect(json).toEqual({
      href: '/ovirt-engine/api/vms/123', id: '123', name: 'myvm', link: [{ href: '/ovirt-engine/api/vms/123/nics', rel: 'nics' }],
      os: { boot: { devices: { device: ['network', 'hd'] } } }, stop_time: 1491898480123, memory: 1073741824, stateless: false,
    });
  });

  it('parses XML and JSON bodies to one tree: a list of one device is still a list', () => {
    const fromXml = parseBody('<vm><os><boot><devices><device>cdrom</device></devices></boot></os></vm>', 'application/xml');
    const fromJson = parseBody('{"os":{"boot":{"devices":{"device":["cdrom"]}}}}', 'application/json');
    expect(pick(fromXml, 'os', 'boot', 'devices', 'device')).toEqual(['cdrom']);
    expect(fromJson).toEqual(fromXml);
    expect(parseBody('<action/>', undefined)).toEqual({});
    expect(parseBody('<action><force>true</force></action>', 'application/xml; charset=utf-8')).toEqual({ force: 'true' });
    expect(parseBody('', 'application/json')).toEqual({});
    expect(() => parseBody('{"os":', 'application/json')).toThrow(BadBody);
    expect(() => parseBody('<vm><os></vm>', 'application/xml')).toThrow(BadBody);
  });

  it('answers in JSON only when asked, as the Engine defaults to XML', () => {
    expect(formatOf('application/json')).toBe('json');
    expect(formatOf(undefined)).toBe('xml');
    expect(formatOf('*/*')).toBe('xml');
  });
});

describe('the driver reading Engine faults', () => {
  it('gives reason and detail, from a fault or an action holding one', () => {
    expect(faultText({ reason: 'Operation Failed', detail: '[Cannot run VM. VM is running.]' })).toBe('Operation Failed: [Cannot run VM. VM is running.]');
    expect(faultText({ fault: { reason: 'Operation Failed', detail: 'Entity not found: 1' }, status: 'failed' })).toBe('Operation Failed: Entity not found: 1');
    expect(faultText('<html><body>Service Unavailable</body></html>')).toBe('');
    expect(faultText(undefined)).toBe('');
  });
});
