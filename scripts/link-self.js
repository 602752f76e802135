// Lets programs inside this repository (the example, the tests) require the package by its
// published name, as the serialized dynamic providers do: node_modules/pulumi-xen-ha -> ..
const fs = require("node:fs");
const path = require("node:path");

function linkSelf() {
  const link = path.join(__dirname, "..", "node_modules", "pulumi-xen-ha");
  try {
    if (fs.readlinkSync(link) === "..") return;
    fs.rmSync(link, { recursive: true, force: true });
  } catch {
    // no link yet
  }
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync("..", link, "dir");
}

linkSelf();
