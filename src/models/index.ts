/** Registers every model on a connection, so boot builds all their indexes (unique ones matter). */
import type { Connection } from 'mongoose';
import { accessDecisionModel, accessRequestModel, accessRevocationModel } from './access-grant.model';
import { archivalNumberModel } from './archival-number.model';
import { cacheStampModel } from './cache-stamp.model';
import { registerDispositionModels } from './disposition.model';
import { classifierExampleModel } from './classifier-example.model';
import { integrityRunModel } from './integrity.model';
import { intakeBatchModel } from './intake-batch.model';
import { itemModel } from './item.model';
import { numberWithdrawalModel } from './number-withdrawal.model';
import { storageMigrationModel } from './storage-migration.model';
import { transferPackageModel } from './transfer.model';
import { jobClaimModel, jobModel } from './job.model';

export function registerModels(conn: Connection): void {
  jobModel(conn);
  jobClaimModel(conn);
  itemModel(conn);
  intakeBatchModel(conn);
  archivalNumberModel(conn);
  numberWithdrawalModel(conn);
  storageMigrationModel(conn);
  transferPackageModel(conn);
  classifierExampleModel(conn);
  cacheStampModel(conn);
  integrityRunModel(conn);
  accessRequestModel(conn);
  accessDecisionModel(conn);
  accessRevocationModel(conn);
  registerDispositionModels(conn);
}
