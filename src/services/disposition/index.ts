/** The disposition room's door: appraisal, destruction lists and approvals, execution, certificates, legal holds. */
export { dueList, dueGroups, type DueFilter, type DueItem, type DuePage, type DueGroupBy, APPRAISABLE_STATUSES } from './due';
export { openRound, giveOpinions, closeRound, getRound, listRounds, roundOpinions, roundItemIds, roundItems, type RoundView, type OpenRoundInput, type OpinionInput, MAX_ROUND_ITEMS } from './rounds';
export { createList, editList, signList, fileList, cancelList, getList, listLists, listPdf, approvalChain, type ListView, type RunView } from './lists';
export { startExecution, runExecution, confirmExecution, reapplyDestructions, EXEC_STAGES, type ExecStage, type ExecProgress, type CrashPoint, type RunReport, type SupervisorAuth } from './execute';
export { queueExecution, runExecutionJob, DISPOSAL_EXECUTE_JOB, INLINE_MAX_ITEMS, type ExecutionJobPayload, type ExecutionJobContext } from './execute-job';
export { issueCertificate, certificateFiles, verifyCertificate, agencyKey, readManifest, type CertificateCheck, type CertificateProblem } from './certificate';
export { placeHold, releaseHold, listHolds, getHold, heldItemIds, holdsOnItem, onHoldChange, HOLD_KINDS, HOLD_KIND_ZH, type HoldView, type HoldInput, type HoldChange, type HoldKind } from './holds';
export { MEMBER_CAPACITIES, CAPACITY_ZH, OPINIONS, OPINION_ZH, DEFAULT_CHAIN, periodLabel, type MemberCapacity, type OpinionKind, type ApprovalChain } from './rules';
