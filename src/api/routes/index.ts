/** Feature routes, in the order they appear in the OpenAPI document. */
import type { Runtime } from '../../runtime';
import type { RouteDef } from '../route';
import { accessRoutes } from './access.routes';
import { authRoutes } from './auth.routes';
import { dispositionRoutes } from './disposition.routes';
import { filingRoutes } from './filing.routes';
import { itemRoutes } from './items.routes';
import { jobRoutes } from './jobs.routes';
import { pageRoutes } from './pages.routes';
import { retentionRoutes } from './retention.routes';
import { transferRoutes } from './transfer.routes';
import { searchRoutes } from './search.routes';
import { integrityRoutes } from './integrity.routes';
import { workplaceRoutes } from './workplace.routes';

export function featureRoutes(runtime: Runtime): RouteDef[] {
  return [...authRoutes(runtime), ...itemRoutes(runtime), ...filingRoutes(runtime), ...pageRoutes(runtime), ...jobRoutes(runtime), ...searchRoutes(runtime), ...accessRoutes(runtime), ...dispositionRoutes(runtime), ...retentionRoutes(runtime), ...transferRoutes(runtime), ...integrityRoutes(runtime), ...workplaceRoutes(runtime)];
}
