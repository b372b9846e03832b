// The oVirt Engine simulator's programmatic API (the virtual rack and `anvil simulate qemu` use it).
export { startEngineSimulator, type EngineSimulator, type EngineSimulatorOptions, type EngineFaults } from './server.ts';
export type { SimVm } from './vm.ts';
