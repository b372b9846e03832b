// image (boot loader) and log extensions.
import { gzipSync } from 'node:zlib';
import { checkInjected, type Extension } from '../commands.ts';

export const image: Extension = {
  // A whole-disk image carries its own boot loader; IPA only adds UEFI NVRAM entries here, which
  // a simulated machine has none of and Anvil's ramdisk leaves to the firmware's fallback path.
  install_bootloader: {
    async: true,
    async run(_params, rt) {
      checkInjected(rt, 'image.install_bootloader');
      return null;
    },
  },
};

export const log: Extension = {
  // IPA returns a base64 tar.gz of many logs; this agent returns its own recent log, gzipped.
  collect_system_logs: {
    async: false,
    async run(_params, rt) {
      return { system_logs: gzipSync(Buffer.from(rt.recentLogs().join('\n') + '\n')).toString('base64') };
    },
  },
};
