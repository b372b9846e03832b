// deploy, clean and service extensions: list steps, execute one (async), results shaped as IPA's.
import type { Extension } from '../commands.ts';
import type { AgentStepKind } from '../plugin-api.ts';

type Json = Record<string, unknown>;

function stepsExtension(kind: AgentStepKind): Extension {
  return {
    [`get_${kind}_steps`]: {
      async: false,
      async run(_params, rt) {
        const { steps, versions } = (await rt.steps).describe(kind);
        return { [`${kind}_steps`]: steps, hardware_manager_version: versions };
      },
    },
    [`execute_${kind}_step`]: {
      async: true,
      async run(params, rt) {
        const step = (params.step ?? {}) as Json;
        return { [`${kind}_result`]: await (await rt.steps).run(kind, params, rt), [`${kind}_step`]: step };
      },
    },
  };
}

export const deploy = stepsExtension('deploy');
export const clean = stepsExtension('clean');
export const service = stepsExtension('service');
