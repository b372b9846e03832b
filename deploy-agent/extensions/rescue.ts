// rescue: IPA's rescue extension. finalize_rescue sets the rescue user's password (the
// conductor sends its sha512-crypt hash, `hashed: true`; a plain one is hashed here), then the
// agent ends so the ramdisk offers the rescue login on its serial console (ramdisk/init.sh).
import { sha512Crypt } from '../../common/secrets.ts';
import { AgentCommandError, checkInjected, type Extension } from '../commands.ts';

/** What crypt(3) hashes look like: `$id$[rounds=N$]salt$hash`, nothing a passwd file line would split on. */
const CRYPT_HASH = /^\$(1|5|6|y|2[abxy]?)\$[./A-Za-z0-9$=,]+$/;

export const rescue: Extension = {
  finalize_rescue: {
    async: false,
    async run(params, rt) {
      checkInjected(rt, 'rescue.finalize_rescue');
      const password = params.rescue_password;
      if (typeof password !== 'string' || !password) throw new AgentCommandError('finalize_rescue needs a rescue_password', 'InvalidCommandParamsError', 400);
      const hash = params.hashed === true ? password : sha512Crypt(password);
      if (!CRYPT_HASH.test(hash)) throw new AgentCommandError('The rescue password hash is not a crypt(3) hash', 'InvalidCommandParamsError', 400);
      await rt.hardware.setRescuePassword(hash);
      rt.logger.info('rescue password set; the agent stops');
      rt.endForRescue();
      return null;
    },
  },
};
