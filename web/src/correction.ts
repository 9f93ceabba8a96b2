// A correction of an item's description replaces its first person or first unit (the one the form
// shows) and keeps the others as they are.

interface Person { name: string | null; idNumber: string | null }
interface Unit { name: string | null; creditCode: string | null }

/** The persons with the first one replaced; emptied fields drop it. */
export function withFirstPerson(persons: Person[] | undefined, name: string, idNumber: string): Person[] {
  const rest = (persons ?? []).slice(1).map((p) => ({ name: p.name, idNumber: p.idNumber }));
  return name || idNumber ? [{ name: name || null, idNumber: idNumber || null }, ...rest] : rest;
}

/** The units with the first one renamed: the one the 归档文件目录 prints as 责任者; its 统一社会信用代码 stays with it. */
export function withFirstUnit(units: Unit[] | undefined, name: string): Unit[] {
  const u0 = units?.[0];
  const rest = (units ?? []).slice(1).map((u) => ({ name: u.name, creditCode: u.creditCode }));
  return name || u0?.creditCode ? [{ name: name || null, creditCode: u0?.creditCode ?? null }, ...rest] : rest;
}
