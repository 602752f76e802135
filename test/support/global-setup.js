// The dynamic providers of test programs require this package by its name (see provider/shim.ts);
// `npm install <pkg>` prunes the link that `npm ci` made, so make sure it is there.
module.exports = async () => {
  require("../../scripts/link-self.js");
};
