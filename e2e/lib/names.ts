// Names shared by the cluster script, the node agent and the tests.
/** Node index N: the node's pods get addresses 10.244.N.2-254 on the shared bridge (10.244.0.1/16). */
export const NODE_INDEX = Number(process.env.E2E_NODE_INDEX ?? "1")
export const NODE_NAME = `e2e-node-${NODE_INDEX}`
export const BRIDGE = process.env.E2E_BRIDGE ?? "dolte2e0"
export const BRIDGE_ADDRESS = "10.244.0.1"
export const POD_PREFIX_LENGTH = 16
export const NETNS_PREFIX = process.env.E2E_NETNS_PREFIX ?? "dolte2e-"
export const STORAGE_CLASS = "e2e-hostpath"
/** The e2e CSI driver (a valid CSI driver name: an RFC 1123 subdomain), provisioner of STORAGE_CLASS. */
export const PROVISIONER = "hostpath.e2e.doltdb.io"
export const SNAPSHOT_CLASS = "e2e-hostpath-snapshots"
export const KUBERNETES_VERSION = "v1.36.3"
