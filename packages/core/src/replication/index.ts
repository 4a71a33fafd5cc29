export * from "./planReplication.ts"
export * from "./planRollout.ts"
export * from "./ReplicationObserved.ts"
export * from "./selectCandidate.ts"
