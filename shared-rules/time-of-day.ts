/**
 * `HH:MM`, 00:00 to 23:59, as Cloud SQL takes a backup window's start (`backupConfiguration.startTime`, UTC). The
 * config refuses any other `monitor:database.backupStartTime`, and PostgresInstance any other `backups.startTime`.
 */
export const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;
