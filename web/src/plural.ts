/** English counts of one take the singular ("1 item", not "1 items"); Chinese has no plural. */
export function singular(text: string): string {
  return text.replace(/\b1 (item|page|file|row|day|hour|minute|hit|signature|member|account|batch|link)(e?s)\b/g, (_m, noun: string) => `1 ${noun}`).replace(/\b1 entries\b/g, '1 entry');
}
