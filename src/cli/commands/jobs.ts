import { AppError } from '../../errors';
import { withRuntime } from '../runtime';
import type { Command } from '../command';
import { OBJECT_ID } from '../../domain/ids';

export const jobsCommand: Command = {
  name: 'jobs',
  summary: 'Show the background job queue',
  usage: '<status|show ID>',
  subcommands: [
    {
      name: 'status',
      permission: 'jobs.read',
      summary: 'Counts of jobs by name and state',
      usage: '',
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          const counts = await rt.queue.counts();
          if (values.json) io.out(JSON.stringify({ counts }));
          else if (!counts.length) io.out('队列为空 / the queue is empty');
          else for (const c of counts) io.out(`${c.name.padEnd(20)} ${c.state.padEnd(10)} ${c.count}`);
        }),
    },
    {
      name: 'show',
      permission: 'jobs.read',
      summary: 'One job with its progress and last error',
      usage: 'ID',
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const id = positionals[0];
          if (!id || !OBJECT_ID.test(id)) throw new AppError('validation_failed', { message: 'Give a job id (24 hex characters)', zh: '请提供任务编号（24 位十六进制）' });
          const job = await rt.queue.get(id);
          if (!job) throw new AppError('not_found', { details: { job: id } });
          io.out(values.json ? JSON.stringify(job) : JSON.stringify(job, null, 2));
        }),
    },
  ],
};
