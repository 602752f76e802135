// The import rules `npm run lint` checks with dependency-cruiser.
//
// Pure modules (schemas, renderers, command builders, parsers, diff rules, plans) never load the
// SSH transport or the Pulumi SDK, so they stay testable without either. Only the layer below
// may: the SSH layer, the resources' lifecycles and the operations they run on hosts, the
// component resources, and the CLI's runners. A pure module may not import that layer either, so
// purity holds through every chain of imports. Imports of types alone are erased at compile time
// and are allowed.
const LAYER = [
  "^provider/ssh/(index|pool)\\.ts$",
  "^provider/(runtime|engine-log|secret-input)\\.ts$",
  "^provider/drbd/(drbd-resource|bring-up|node-ops)\\.ts$",
  "^provider/heartbeat/(cluster|nodes)\\.ts$",
  "^provider/corosync/(corosync-cluster|node-ops)\\.ts$",
  "^provider/pacemaker/(pacemaker-config|node-ops)\\.ts$",
  "^provider/lvm/(logical-volume|volume-group)\\.ts$",
  "^provider/network/node-network\\.ts$",
  "^provider/xen/(domu|domu-ops|heartbeat-handback|update-run|migration-trust|xen-tools-image)\\.ts$",
  "^components/(index|reports|two-node-xen-ha)\\.ts$",
  "^cli/(main|status/report)\\.ts$",
];
const IO = "^node_modules/(ssh2|@pulumi/pulumi)/";
const OURS = "^(provider|components|cli)/";

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "A circle of imports, types included: move what both sides share into a module of its own.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "pure-no-io",
      comment: "A pure module loads ssh2 or @pulumi/pulumi: move the call into the layer (see LAYER), or import types only.",
      severity: "error",
      from: { path: OURS, pathNot: LAYER },
      to: { path: IO, dependencyTypesNot: ["type-only"] },
    },
    {
      name: "pure-no-layer",
      comment: "A pure module imports a module of the layer that runs commands or talks to the engine (see LAYER), and so loads ssh2 or @pulumi/pulumi through it.",
      severity: "error",
      from: { path: OURS, pathNot: LAYER },
      to: { path: LAYER, dependencyTypesNot: ["type-only"] },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(dist|node_modules/pulumi-xen-ha)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
