/**
 * Backups: URLs per database, the credentials Secret, the Backup and BackupSchedule planners (pure: observed value
 * in, actions and status out; the operator observes and executes).
 */
export * from "./BackupCredentials.ts"
export * from "./BackupCron.ts"
export * from "./BackupObserved.ts"
export * from "./BackupUrl.ts"
export * from "./planBackup.ts"
export * from "./planBackupSchedule.ts"
