export * from "./planSnapshot.ts"
export * from "./SnapshotObserved.ts"
