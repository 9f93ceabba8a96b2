/** The integrity room's door: consistency checks (fsck), 四性检测, backup and restore. */
export { FSCK_PHASES, runFsck, type FsckOptions, type FsckPhase, type FsckReport } from './fsck';
export { lastGoodRun, useWithdrawalRegister, type Finding, type WithdrawalRegister } from './common';
export { afterRestore, backup, listBackups, restore, useDestructionReplay, type BackupManifest, type BackupOptions, type DestructionReplay, type RestoreOptions, type RestoreResult } from './backup';
export { openTarget, type BackupTarget } from './backup-target';
export { installOperationalMetrics, operationalReadiness } from './operations';
export { CHECKS, checkFourProperties, PROPERTIES, type FourPropertiesOptions, type FourPropertiesReport, type Property, type PropertyFinding } from './four-properties';
export { CAPTURE_CHECK_JOB, enqueueCaptureCheck, FOUR_PROPERTIES_JOB, integrityJobHandlers, scheduleFourProperties } from './jobs';
export { getRun, listRuns, runCsv, runView, type RunView } from './reports';
