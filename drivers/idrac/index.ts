// The `idrac` hardware type: Redfish plus Dell's differences. Booting from virtual media goes
// through the OEM Server Configuration Profile import (standard Redfish cannot ask iDRAC for it),
// an asynchronous task polled to its end; the boot mode is a BIOS attribute applied by a
// configuration job (JID_*) at the next reset.
import { BmcTimeout, DriverError, UnsupportedOperation } from '../../common/errors.ts';
import { pollUntil } from '../../common/poll.ts';
import type { BootDevice, BootMode, DriverFamily } from '../interfaces.ts';
import { redfishBios } from '../redfish/bios.ts';
import { redfishVendor } from '../redfish/vendor-passthru.ts';
import { redfishVirtualMediaBoot } from '../redfish/boot.ts';
import { redfishHardwareType } from '../redfish/index.ts';
import { redfishInspect } from '../redfish/inspect.ts';
import { redfishRaid } from '../redfish/raid.ts';
import { redfishManagement, standardSetBootDevice } from '../redfish/management.ts';
import { redfishPower } from '../redfish/power.ts';
import type { Json } from '../redfish/client.ts';
import { isObject, linkOf, type RedfishNode } from '../redfish/system.ts';
import type { Vendor } from '../redfish/vendor.ts';

const JOB_TIMEOUT_SEC = 600;

/** The manager's OEM ImportSystemConfiguration action target. */
async function importTarget(rn: RedfishNode): Promise<string> {
  for (const m of await rn.managers()) {
    const doc = await rn.client.getJson(m);
    const oem = isObject(doc.Actions) && isObject(doc.Actions.Oem) ? doc.Actions.Oem : {};
    for (const [name, spec] of Object.entries(oem)) {
      if (name.endsWith('ImportSystemConfiguration') && isObject(spec) && typeof spec.target === 'string') return spec.target;
    }
  }
  throw new UnsupportedOperation(`The iDRAC of node ${rn.node.uuid} offers no OEM ImportSystemConfiguration action`);
}

/** Imports a Server Configuration Profile fragment and waits for its task. */
async function importConfiguration(rn: RedfishNode, fqdd: string, attributes: Record<string, string>): Promise<void> {
  const xml = Object.entries(attributes).map(([k, v]) => `<Attribute Name="${k}">${v}</Attribute>`).join('');
  await rn.client.post(await importTarget(rn), {
    ShareParameters: { Target: 'ALL' },
    ImportBuffer: `<SystemConfiguration><Component FQDD="${fqdd}">${xml}</Component></SystemConfiguration>`,
    ShutdownType: 'NoReboot',
  });
}

async function bootFromMedia(rn: RedfishNode, persistent: boolean): Promise<void> {
  await importConfiguration(rn, 'iDRAC.Embedded.1', { 'ServerBoot.1#BootOnce': persistent ? 'Disabled' : 'Enabled', 'ServerBoot.1#FirstBootDevice': 'VCD-DVD' });
}

async function setBootDevice(rn: RedfishNode, device: BootDevice, persistent: boolean): Promise<void> {
  if (device === 'cdrom') await bootFromMedia(rn, persistent);
  else await standardSetBootDevice(rn, device, persistent);
}

async function waitForJob(rn: RedfishNode, job: string): Promise<void> {
  let doc: Json = {};
  await pollUntil(async () => {
    doc = await rn.client.getJson(job);
    const state = String(doc.JobState ?? '');
    if (state === 'Failed' || state === 'CompletedWithErrors') throw new DriverError(`iDRAC job ${String(doc.Id ?? job)} of node ${rn.node.uuid} ended ${state}: ${String(doc.Message ?? '')}`);
    return state === 'Completed' ? true : undefined;
  }, {
    timeoutSec: JOB_TIMEOUT_SEC, signal: rn.signal, intervalMs: 100, maxIntervalMs: 2000,
    timedOut: () => new BmcTimeout(`iDRAC job ${String(doc.Id ?? job)} of node ${rn.node.uuid} did not complete within ${JOB_TIMEOUT_SEC} s (state ${String(doc.JobState ?? '')})`),
  });
}

/** Dell: staged BIOS attributes apply through a configuration job (JID_*) that the next reset runs. */
async function stageBiosSettings(rn: RedfishNode, settingsPath: string, attributes: Json): Promise<string> {
  const res = await rn.client.request('PATCH', settingsPath, { Attributes: attributes, '@Redfish.SettingsApplyTime': { ApplyTime: 'OnReset' } });
  const job = res.headers.location;
  if (!job) throw new DriverError(`The iDRAC of node ${rn.node.uuid} accepted the BIOS change but created no configuration job`);
  return job;
}

/** Dell: writing BootSourceOverrideMode can start the Lifecycle Controller; the BIOS BootMode attribute with a job is the safe way. */
async function setBootMode(rn: RedfishNode, mode: BootMode): Promise<void> {
  const system = await rn.system();
  const biosLink = linkOf(system.Bios);
  if (!biosLink) throw new UnsupportedOperation(`The iDRAC of node ${rn.node.uuid} exposes no Bios resource`);
  const bios = await rn.client.getJson(biosLink);
  const attrs = isObject(bios.Attributes) ? bios.Attributes : {};
  const want = mode === 'uefi' ? 'Uefi' : 'Bios';
  if (attrs.BootMode === want) return;
  const settings = isObject(bios['@Redfish.Settings']) ? linkOf(bios['@Redfish.Settings'].SettingsObject) : null;
  if (!settings) throw new UnsupportedOperation(`The iDRAC of node ${rn.node.uuid} has no BIOS settings object`);
  const job = await stageBiosSettings(rn, settings, { BootMode: want });
  // The job runs at the next reset: reboot a running node now; a powered-off one applies it when it next starts.
  if ((await rn.powerState()) === 'power on') {
    await rn.reset((await rn.pickReset(['ForceRestart', 'PowerCycle'])) ?? 'ForceRestart');
    await waitForJob(rn, job);
    await rn.waitForPower('power on');
  }
}

export const IDRAC: Vendor = { name: 'idrac-redfish', bootName: 'idrac-redfish-virtual-media', ownOutOfBand: true, setBootDevice, setBootMode, bootFromMedia, stageBiosSettings, waitForSettingsJob: waitForJob };

export const idracFamily: DriverFamily = {
  implementations: {
    power: [redfishPower(IDRAC)],
    management: [redfishManagement(IDRAC)],
    inspect: [redfishInspect(IDRAC)],
    boot: [redfishVirtualMediaBoot(IDRAC)],
    bios: [redfishBios(IDRAC)],
    raid: [redfishRaid(IDRAC.name)],
    vendor: [redfishVendor(IDRAC.name)],
  },
  hardwareTypes: [redfishHardwareType('idrac', IDRAC)],
};
