import { join } from "node:path"
import { REPO } from "../lib/helm.ts"

export { REPO }

/** The playground's own harness state (kubeconfig, logs, volumes), apart from the e2e suite's e2e/.work. */
export const work = () => process.env.DOLTDB_PLAYGROUND_WORK ?? join(REPO, "e2e", ".work", "playground")
export const pidFile = () => join(work(), "playground.pid")
export const kubeconfig = () => join(work(), "kubeconfig")
export const clusterScript = join(REPO, "e2e", "cluster.sh")
