// Where the ramdisk build puts the agent bundle (relative to the ramdisk's root), read by its launcher.
export const AGENT_BUNDLE = 'usr/lib/anvil-agent/agent.cjs';
