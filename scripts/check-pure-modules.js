// Pure modules (schemas, renderers, command builders, parsers, diff rules) must not reach for the
// SSH transport or the Pulumi SDK, so they stay testable without either.
const fs = require("node:fs");
const path = require("node:path");

const root = path.join(__dirname, "..", "provider");
const PURE = /\/(schema|render|commands|report|status|size|rules|config|config-parse|toolstack|capabilities|list|xen-tools|resource-script|migration|adoption|main-config|running-identity|adjust-dry-run)\.ts$|\/(shell|inputs|diff|errors|values|zod-def|refreshed-inputs)\.ts$|\/ssh\/(host-key-claims|known-hosts)\.ts$/;
const FORBIDDEN = /from "(ssh2|@pulumi\/pulumi[^"]*)"|require\("(ssh2|@pulumi\/pulumi)/;

const offenders = [];
function walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(file);
    else if (PURE.test(file) && FORBIDDEN.test(fs.readFileSync(file, "utf8"))) offenders.push(path.relative(root, file));
  }
}
walk(root);
if (offenders.length > 0) {
  console.error(`pure modules importing ssh2 or @pulumi/pulumi: ${offenders.join(", ")}`);
  process.exit(1);
}
