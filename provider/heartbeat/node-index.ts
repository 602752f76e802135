/** A node of the two-node cluster by its place in `nodes`; its peer is the other one. */
export type NodeIndex = 0 | 1;

export const peerOf = (i: NodeIndex): NodeIndex => (i === 0 ? 1 : 0);
