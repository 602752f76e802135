// Lab test files share two hosts and run one after another: in a fixed order, from the lab itself
// up to the whole cluster, so a failure shows where it starts rather than where it cascades. The
// adoption test goes last: it builds clusters by hand and leaves them on the nodes.
const Sequencer = require("@jest/test-sequencer").default;

const ORDER = ["lab", "lvm", "drbd", "network", "heartbeat", "xen-domu", "xen-tools", "cluster", "fencing", "adoption"];
const rank = (path) => {
  const name = path.split("/").pop().replace(/\.test\.ts$/, "");
  const i = ORDER.indexOf(name);
  return i === -1 ? ORDER.length : i;
};

class LabSequencer extends Sequencer {
  sort(tests) {
    return [...tests].sort((a, b) => rank(a.path) - rank(b.path) || a.path.localeCompare(b.path));
  }
}

module.exports = LabSequencer;
