export * from "./planReplication.ts"
export * from "./ReplicationObserved.ts"
export * from "./selectCandidate.ts"
