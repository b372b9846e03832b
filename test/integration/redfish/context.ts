// A task context for driving Redfish interfaces directly, as the conductor would.
import { randomUUID } from 'node:crypto';
import { defaultConfig } from '../../../common/config.ts';
import { silentLogger } from '../../../common/logger.ts';
import type { NodeRecord } from '../../../db/nodes.ts';
import type { PortRecord } from '../../../db/ports.ts';
import type { BiosSetting, BootRecord, FirmwareComponent, TaskContext } from '../../../drivers/interfaces.ts';
import { resolveDriver } from '../../../drivers/registry.ts';

export type TestContext = TaskContext & { node: NodeRecord; notes: string[]; bootRecords: BootRecord[]; biosSettings: BiosSetting[]; firmware: FirmwareComponent[] };

export function redfishContext(driver: string, driverInfo: Record<string, unknown>, extra: Partial<NodeRecord> = {}): TestContext {
  const node = {
    uuid: randomUUID(),
    driver,
    driver_info: driverInfo,
    driver_internal_info: {},
    instance_info: {},
    properties: {},
    boot_mode: null,
    secure_boot: null,
    ...extra,
  } as NodeRecord;
  const ctx: TestContext = {
    node,
    notes: [],
    bootRecords: [],
    biosSettings: [],
    firmware: [],
    ports: [] as PortRecord[],
    driver: resolveDriver({ driver }),
    logger: silentLogger,
    config: defaultConfig(),
    signal: new AbortController().signal,
    async save(fields: Partial<NodeRecord>) { ctx.node = { ...ctx.node, ...fields }; },
    async note(message: string) { ctx.notes.push(message); },
    async setBootRecords(records) { ctx.bootRecords = [...records]; },
    async saveBiosSettings(settings) { ctx.biosSettings = [...settings]; },
    async saveFirmwareComponents(components) { ctx.firmware = [...components]; },
  };
  return ctx;
}
