// An example plugin of Anvil's deploy agent (docs/deploy-agent.md, "Agent plugins"): a step that
// reads the whole root disk and reports its checksum, offered for cleaning and for servicing.
// It writes nothing, so a serviced node's workload disk stays as it was. Copy it into the plugin
// folder of the ramdisk (or pass it to the ramdisk build) to use it.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** @param {Record<string, unknown>} args @param {import('../../../deploy-agent/plugin-api.ts').StepContext} ctx */
async function checksumRootDisk(args, ctx) {
  const algorithm = String(args.algorithm ?? 'sha256');
  if (!['sha256', 'sha512'].includes(algorithm)) throw new Error(`checksum_root_disk: algorithm must be sha256 or sha512, not ${algorithm}`);
  const disk = await ctx.rootDisk();
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(disk.path, { end: disk.sizeBytes - 1 })) hash.update(chunk);
  const digest = hash.digest('hex');
  ctx.logger.info({ disk: disk.name, algorithm, digest }, 'root disk checksummed');
  return { disk: disk.name, bytes: disk.sizeBytes, algorithm, digest };
}

const argsinfo = { algorithm: { description: 'sha256 (the default) or sha512', required: false } };

/** @type {import('../../../deploy-agent/plugin-api.ts').AgentPlugin} */
export default {
  name: 'DiskChecksumHardwareManager',
  version: '1.0',
  steps: [
    { kind: 'clean', step: 'checksum_root_disk', interface: 'deploy', priority: 0, argsinfo, run: checksumRootDisk },
    { kind: 'service', step: 'checksum_root_disk', interface: 'deploy', priority: 0, argsinfo, run: checksumRootDisk },
  ],
};
