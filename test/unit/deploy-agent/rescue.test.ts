// The agent's rescue.finalize_rescue: it takes the conductor's sha512-crypt hash as it is (or
// hashes a plain password), hands it to the hardware, ends the agent, and refuses bad input.
import { describe, expect, it } from 'vitest';
import { verify } from 'unixcrypt';
import { silentLogger } from '../../../common/logger.ts';
import { sha512Crypt } from '../../../common/secrets.ts';
import type { AgentRuntime } from '../../../deploy-agent/commands.ts';
import { rescue } from '../../../deploy-agent/extensions/rescue.ts';

function runtime() {
  const seen = { hashes: [] as string[], ended: 0 };
  const rt = {
    hardware: { setRescuePassword: async (hash: string) => { seen.hashes.push(hash); } },
    logger: silentLogger,
    endForRescue: () => { seen.ended++; },
  } as unknown as AgentRuntime;
  return { rt, seen };
}

describe('rescue.finalize_rescue', () => {
  it('sets the hash the conductor sends, then ends the agent', async () => {
    const { rt, seen } = runtime();
    const hash = sha512Crypt('open sesame');
    expect(hash).toMatch(/^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
    expect(verify('open sesame', hash)).toBe(true);
    expect(await rescue.finalize_rescue!.run({ rescue_password: hash, hashed: true }, rt)).toBeNull();
    expect(seen).toEqual({ hashes: [hash], ended: 1 });
  });

  it('hashes a plain password itself (IPA accepts hashed: false)', async () => {
    const { rt, seen } = runtime();
    await rescue.finalize_rescue!.run({ rescue_password: 'plain-pw' }, rt);
    expect(seen.hashes[0]).toMatch(/^\$6\$/);
    expect(verify('plain-pw', seen.hashes[0]!)).toBe(true);
  });

  it('refuses a missing password and a hash that could break the passwd file', async () => {
    for (const params of [{}, { rescue_password: '' }, { rescue_password: 'x:0:0\nroot2', hashed: true }, { rescue_password: 'not-a-hash', hashed: true }]) {
      const { rt, seen } = runtime();
      await expect(rescue.finalize_rescue!.run(params, rt)).rejects.toMatchObject({ type: 'InvalidCommandParamsError' });
      expect(seen).toEqual({ hashes: [], ended: 0 });
    }
  });
});
