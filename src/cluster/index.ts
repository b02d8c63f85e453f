export * from "./cluster-facts.ts";
export { type ClusterModule, type ClusterModuleDeps, createClusterModule } from "./cluster-module.ts";
