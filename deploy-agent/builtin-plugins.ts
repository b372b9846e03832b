// The plugins of deploy-agent/plugins/, compiled into the ramdisk's agent bundle (main.ts) so that
// they come with it from its V8 code cache: as ES modules of their own, Node parsed, compiled and
// linked them in the VM when the first step list was asked (0.5–0.7 s of an undeploy in TCG). The
// simulated agents load the same folder by plugins.ts (BUILTIN_PLUGIN_DIR); a test keeps both the same.
import type { AgentPlugin } from './plugin-api.ts';
import installCoreos from './plugins/install-coreos.ts';

export const BUILTIN_PLUGINS: readonly AgentPlugin[] = [installCoreos];
