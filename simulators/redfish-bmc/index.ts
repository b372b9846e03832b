// The Redfish BMC simulator's programmatic API (the virtual rack and the QEMU backend use it).
export { startRedfishSimulator, makeMachines, type RedfishSimulator, type RedfishSimulatorOptions, type RedfishEndpoint } from './server.ts';
export { FaultTable, type Faults } from './support.ts';
export { FLAVORS, parseFlavor, type Flavor } from './flavors.ts';
