// Copies the shell programs that live beside their modules (provider/**/*.sh) into dist/, where
// the compiled modules read them at run time.
const fs = require("node:fs");
const path = require("node:path");

const root = path.join(__dirname, "..");
function copyShellFiles(dir) {
  for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) copyShellFiles(rel);
    else if (entry.name.endsWith(".sh")) {
      fs.mkdirSync(path.join(root, "dist", dir), { recursive: true });
      fs.copyFileSync(path.join(root, rel), path.join(root, "dist", rel));
    }
  }
}
copyShellFiles("provider");
