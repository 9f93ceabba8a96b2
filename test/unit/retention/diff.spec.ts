import assert from 'node:assert/strict';
import raw from '../../../retention-rules/rules/3hao-ling-2009.v1.json';
import { scheduleVersion, diffSchedules, loadSchedule } from '../../../retention-rules/index';

type RawFile = { [key: string]: any; items: Record<string, unknown>[]; accountingRules: Record<string, unknown>[] };

describe('diffSchedules', () => {
  const v1 = scheduleVersion('3hao-ling-2009.v1');

  it('finds nothing between a schedule and itself', () => {
    assert.deepEqual(diffSchedules(v1, loadSchedule(structuredClone(raw))), []);
  });

  it('lists the rows whose retention, category, sub-rules or status changed', () => {
    const f = structuredClone(raw) as RawFile;
    f.version = 'v2';
    const row = (id: string) => f.items.find((i) => i.id === id)!;
    row('6-05').retention = 'D50'; // period confirmed from the official text
    row('6-05').provisional = false;
    row('6-05').confidence = 'S';
    delete row('6-05').provisionalReason;
    row('2-P6').category = '1'; // moved
    row('1-02').name = '参保人员登记材料（新名称）'; // wording only: not a change of meaning
    f.accountingRules.find((r) => r.id === 'report-periodic')!.retention = 'D30';
    f.items = f.items.filter((i) => i.id !== '9-04');
    f.items.push({ id: '9-05', category: '9', no: '（五）', name: '新增稽核材料', retention: 'D30', source: 'test', confidence: 'S' });
    const v2 = loadSchedule(f);

    const changes = diffSchedules(v1, v2);
    const kinds = Object.fromEntries(changes.map((c) => [c.itemId, c.kinds]));
    assert.deepEqual(kinds, {
      '2-P6': ['category'],
      '3-T1': ['accounting'],
      '4-05': ['accounting'],
      '5-05': ['accounting'],
      '6-05': ['retention', 'provisional'],
      '6-T1': ['accounting'],
      '7-04': ['accounting'],
      '9-04': ['removed'],
      '9-05': ['added'],
    });
    const c605 = changes.find((c) => c.itemId === '6-05');
    assert.deepEqual([c605?.before?.retention, c605?.after?.retention], ['D100', 'D50']);
    assert.equal(changes.find((c) => c.itemId === '9-04')?.after, null);
  });
});
